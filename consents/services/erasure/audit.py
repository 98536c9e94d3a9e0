"""The audit trail: the customer's entries lose their values (reason, before, after, changes),
and the erasure leaves its own entry, with counts and party ids, never values. The audit trail
is append-only; erasure is the one sanctioned exception: it redacts values in an entry's text,
never its kind, time or actor."""

from __future__ import annotations

from collections.abc import Sequence

from consents.services.erasure.values import Redactor, redact_rows
from parties.models import PartyEvent
from parties.services import outbox
from parties.services.events import erasure_event


def audit_redact(ids: Sequence[int], redactor: Redactor) -> int:
    events = PartyEvent.objects.filter(pk__in=PartyEvent.objects.filter(parties__in=ids).values("pk"))
    return redact_rows(events, redactor, text=["reason"], documents=["before", "after", "changes"])


def erasure_event_record(
    *, party_id: int, ids: Sequence[int], actor, reason: str, counts: dict[str, int]
) -> PartyEvent:
    """The erasure's own entry (the reason is redacted too: a request may quote the customer),
    and the change event other systems learn it from (ids only)."""
    outbox.party_erased_event(party_id=party_id, party_ids=ids, actor=actor)
    return erasure_event(
        party_id=party_id,
        party_ids=ids,
        actor=actor,
        reason=reason,
        changes={"erased_parties": list(ids), "counts": counts},
    )


def erasure_event_counts(event: PartyEvent, *, ids: Sequence[int], counts: dict[str, int]) -> None:
    PartyEvent.objects.filter(pk=event.pk).update(changes={"erased_parties": list(ids), "counts": counts})
