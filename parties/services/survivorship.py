"""Administrators' survivorship rules, and recomputing golden records after they change."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count

from parties.models import PartyStatus, Rule, SourceRecord, SurvivorshipRule
from parties.services.golden import GOLDEN_ATTRIBUTES, party_golden_refresh

REFRESH_BATCH = 500


@transaction.atomic
def survivorship_rules_save(*, rules: Mapping[str, str], user=None) -> int:
    """Save one rule per golden attribute; when any changed, recompute in the background
    the golden records the change can affect. Returns how many rules changed."""
    current = dict(SurvivorshipRule.objects.values_list("attribute", "rule"))
    changed = 0
    for attribute in GOLDEN_ATTRIBUTES:
        rule = rules.get(attribute) or Rule.TRUST_RANK
        if rule not in Rule.values:
            raise ValueError(f"{attribute}: unknown rule {rule!r}")
        if current.get(attribute, Rule.TRUST_RANK) != rule:
            SurvivorshipRule.objects.update_or_create(attribute=attribute,
                                                      defaults={"rule": rule, "updated_by": user})
            changed += 1
    if changed:
        from parties.tasks import golden_refresh_all_task

        transaction.on_commit(lambda: golden_refresh_all_task.delay(0))
    return changed


def golden_refresh_batch(*, after_id: int = 0, batch: int = REFRESH_BATCH) -> int | None:
    """Recompute the golden records of the next ``batch`` active parties after ``after_id``
    that have two or more source records (with one, every rule picks the same values).
    Returns the last party id done, or None when there are no more."""
    ids = list(SourceRecord.objects.filter(party_id__gt=after_id, party__status=PartyStatus.ACTIVE)
               .values("party_id").annotate(n=Count("pk")).filter(n__gt=1)
               .order_by("party_id").values_list("party_id", flat=True)[:batch])
    for party_id in ids:
        party_golden_refresh(party_id=party_id)
    return ids[-1] if ids else None
