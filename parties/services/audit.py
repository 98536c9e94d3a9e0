"""Audit-trail entries for decisions that change no party rows (a steward's "not a match",
an override set or removed). Merges, unmerges and splits write their own (services.merge)."""

from __future__ import annotations

from collections.abc import Sequence

from parties.models import PartyEvent
from parties.services.merge import parties_snapshot


def event_record(
    *,
    kind: str,
    party_id: int,
    party_ids: Sequence[int],
    actor=None,
    suggestion_id: int | None = None,
    score: float | None = None,
    reason: str = "",
    after_too: bool = False,
) -> PartyEvent:
    """Append one entry to the audit trail, with a snapshot of the parties it is about."""
    ids = sorted({party_id, *party_ids})
    snapshot = parties_snapshot(ids)
    event = PartyEvent.objects.create(
        kind=kind,
        party_id=party_id,
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        suggestion_id=suggestion_id,
        score=score,
        reason=reason[:500],
        before=snapshot,
        after=snapshot if after_too else {},
    )
    event.parties.set(ids)
    return event
