"""Administrators' survivorship rules, and recomputing golden records after they change."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count

from c360.kernel.setting_changes import setting_changes_record
from parties.models import GOLDEN_ATTRIBUTE_CHOICES, PartyStatus, Rule, SourceRecord, SurvivorshipRule
from parties.services import outbox
from parties.services.golden import GOLDEN_ATTRIBUTES, party_golden_refresh

REFRESH_BATCH = 500
SURVIVORSHIP_SETTING = "parties.survivorship"  # its history (c360.kernel.setting_changes)


@transaction.atomic
def survivorship_rules_save(*, rules: Mapping[str, str], user=None) -> int:
    """Save one rule per golden attribute; when any changed, recompute in the background
    the golden records the change can affect. Returns how many rules changed. Each change is
    recorded in the settings history (who, the rule before and after), in this transaction."""
    current = dict(SurvivorshipRule.objects.select_for_update().values_list("attribute", "rule"))
    changed = 0
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for attribute in GOLDEN_ATTRIBUTES:
        rule = rules.get(attribute) or Rule.TRUST_RANK
        if rule not in Rule.values:
            raise ValueError(f"{attribute}: unknown rule {rule!r}")
        if current.get(attribute, Rule.TRUST_RANK) != rule:
            before[attribute] = Rule(current.get(attribute, Rule.TRUST_RANK)).label
            after[attribute] = Rule(rule).label
            SurvivorshipRule.objects.update_or_create(
                attribute=attribute, defaults={"rule": rule, "updated_by": user}
            )
            changed += 1
    if changed:
        setting_changes_record(
            setting=SURVIVORSHIP_SETTING,
            before=before,
            after=after,
            user=user,
            labels={key: str(label) for key, label in GOLDEN_ATTRIBUTE_CHOICES},
        )
        from parties.tasks import golden_refresh_all_task

        transaction.on_commit(lambda: golden_refresh_all_task.delay(0))
    return changed


def golden_refresh_batch(*, after_id: int = 0, batch: int = REFRESH_BATCH) -> int | None:
    """Recompute the golden records of the next ``batch`` active parties after ``after_id``
    that have two or more source records (with one, every rule picks the same values).
    Returns the last party id done, or None when there are no more."""
    ids = list(
        SourceRecord.objects.filter(party_id__gt=after_id, party__status=PartyStatus.ACTIVE)
        .values("party_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("party_id")
        .values_list("party_id", flat=True)[:batch]
    )
    for party_id in ids:
        with transaction.atomic():
            party = party_golden_refresh(party_id=party_id)
            if party.golden_changed:
                outbox.party_updated_event(
                    party_id=party_id, fields=party.golden_changed, actor="survivorship rules"
                )
    return ids[-1] if ids else None
