"""Stewards' overrides of golden values: they win over every survivorship rule until removed."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from c360.kernel.params import text_problem
from parties.models import Gender, GoldenOverride, PartyStatus
from parties.services import events, outbox
from parties.services.golden import GOLDEN_ATTRIBUTES, party_golden_refresh
from parties.services.merge import parties_lock, parties_snapshot

MAX_LENGTH = {"salutation": 20, "name_suffix": 20, "gender": 16, "organization_name": 200}


def override_value_clean(attribute: str, value: str) -> str:
    """The value as stored, or ``ValidationError`` naming the field and what is wrong."""
    value = (value or "").strip()
    if attribute not in GOLDEN_ATTRIBUTES:
        raise ValidationError({"attribute": f"{attribute!r} is not a golden attribute"})
    if attribute == "birth_date" and value:
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise ValidationError({"value": f"{value!r} is not a date (YYYY-MM-DD)"}) from None
        if parsed > timezone.localdate() or parsed.year < 1900:
            raise ValidationError({"value": f"{value} is not a plausible birth date"})
    problem = text_problem(value, max_length=None)
    if problem:  # a NUL: PostgreSQL would refuse the row
        raise ValidationError({"value": problem})
    if attribute == "gender" and value not in Gender.values:
        allowed = ", ".join(v for v in Gender.values if v)
        raise ValidationError({"value": f"{value!r} is not one of {allowed}"})
    limit = MAX_LENGTH.get(attribute, 100)
    if len(value) > limit:
        raise ValidationError({"value": f"at most {limit} characters (got {len(value)})"})
    return value


@transaction.atomic
def golden_override_set(*, party_id: int, attribute: str, value: str, actor, reason: str = ""):
    """Pin a golden attribute to ``value``, recompute the golden record, audit it."""
    value = override_value_clean(attribute, value)
    party = parties_lock([party_id])[party_id]
    if party.status != PartyStatus.ACTIVE:
        raise ValidationError(f"party {party_id} is merged into party {party.merged_into_id}")
    before = parties_snapshot([party_id])
    GoldenOverride.objects.update_or_create(
        party_id=party_id,
        attribute=attribute,
        defaults={"value": value, "reason": reason[:300], "created_by": actor},
    )
    party = party_golden_refresh(party_id=party_id)
    if party.golden_changed:  # the same value pinned again changes nothing other systems hold
        outbox.party_updated_event(party_id=party_id, fields=party.golden_changed, actor=actor)
    events.override_set_event(
        party_id=party_id, actor=actor, before=before, reason=f"{attribute} = {value!r}. {reason}".strip()
    )
    return party


@transaction.atomic
def golden_override_remove(*, party_id: int, attribute: str, actor, reason: str = ""):
    """Let the survivorship rule decide the attribute again."""
    parties_lock([party_id])
    before = parties_snapshot([party_id])
    deleted, _ = GoldenOverride.objects.filter(party_id=party_id, attribute=attribute).delete()
    if not deleted:
        raise ValidationError({"attribute": f"party {party_id} has no override of {attribute}"})
    party = party_golden_refresh(party_id=party_id)
    if party.golden_changed:  # the same value pinned again changes nothing other systems hold
        outbox.party_updated_event(party_id=party_id, fields=party.golden_changed, actor=actor)
    events.override_removed_event(
        party_id=party_id, actor=actor, before=before, reason=f"{attribute}. {reason}".strip()
    )
    return party
