"""The parties' audit trail (``PartyEvent``): one function per kind of event, all writing
through ``_event_write``, which alone decides how the actor is named and what is kept.

A service calls the function for what it did, after doing it (the snapshot ``after`` is taken
when the event is written): ``merged_event`` from ``party_merge``, ``not_a_match_event`` from
matching's decisions, ``erasure_event`` from consents' erasure, and so on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parties.models import EventKind, PartyEvent
from parties.services.merge.snapshot import parties_snapshot

REASON_LENGTH = 500  # PartyEvent.reason's max_length


def actor_label_of(actor) -> str:
    """How the trail names a user (an API token acts as its user); "system" without one."""
    return actor.get_username() if actor else "system"


def _event_write(
    *,
    kind: str,
    party_id: int,
    party_ids: Sequence[int],
    actor=None,
    actor_label: str = "",
    reason: str = "",
    suggestion_id: int | None = None,
    score: float | None = None,
    before: dict | None = None,
    after_of: Sequence[int] | None = None,
    changes: dict[str, Any] | None = None,
    reverts: PartyEvent | None = None,
) -> PartyEvent:
    """One row of the trail: ``actor_label`` given (a rule, "auto-merge …") or the actor's
    name; the reason cut to fit; ``after_of``: the parties to snapshot now as ``after``."""
    event = PartyEvent.objects.create(
        kind=kind,
        party_id=party_id,
        actor=actor,
        actor_label=actor_label or actor_label_of(actor),
        suggestion_id=suggestion_id,
        score=score,
        reason=reason[:REASON_LENGTH],
        before=before or {},
        after=parties_snapshot(after_of) if after_of is not None else {},
        changes=changes or {},
        reverts=reverts,
    )
    event.parties.set(party_ids)
    return event


def merged_event(
    *,
    survivor_id: int,
    party_ids: Sequence[int],
    automatic: bool,
    actor,
    actor_label: str,
    suggestion_id: int | None,
    score: float | None,
    reason: str,
    before: dict,
    changes: dict[str, Any],
) -> PartyEvent:
    """A merge (by a steward, or automatic above the auto-merge threshold) into ``survivor_id``."""
    return _event_write(
        kind=EventKind.AUTO_MERGE if automatic else EventKind.MERGE,
        party_id=survivor_id,
        party_ids=party_ids,
        actor=actor,
        actor_label=actor_label,
        suggestion_id=suggestion_id,
        score=score,
        reason=reason,
        before=before,
        after_of=[survivor_id],
        changes=changes,
    )


def unmerged_event(
    *,
    merge: PartyEvent,
    survivor_id: int,
    party_ids: Sequence[int],
    actor,
    reason: str,
    before: dict,
    changes: dict[str, Any],
) -> PartyEvent:
    """The undoing of ``merge`` (whose survivor was ``survivor_id``)."""
    return _event_write(
        kind=EventKind.UNMERGE,
        party_id=survivor_id,
        party_ids=party_ids,
        actor=actor,
        suggestion_id=merge.suggestion_id,
        reason=reason,
        before=before,
        after_of=party_ids,
        changes=changes,
        reverts=merge,
    )


def split_event(
    *, party_id: int, new_party_id: int, actor, reason: str, before: dict, changes: dict[str, Any]
) -> PartyEvent:
    """Source records of ``party_id`` moved out to the new party ``new_party_id``."""
    ids = [party_id, new_party_id]
    return _event_write(
        kind=EventKind.SPLIT,
        party_id=party_id,
        party_ids=ids,
        actor=actor,
        reason=reason,
        before=before,
        after_of=ids,
        changes=changes,
    )


def not_a_match_event(
    *,
    party_id: int,
    party_ids: Sequence[int],
    actor,
    suggestion_id: int | None,
    score: float | None,
    reason: str,
) -> PartyEvent:
    """A steward's "not a match" about ``party_ids`` (no party row changes: a snapshot of them)."""
    ids = sorted({party_id, *party_ids})
    return _event_write(
        kind=EventKind.REJECT,
        party_id=party_id,
        party_ids=ids,
        actor=actor,
        suggestion_id=suggestion_id,
        score=score,
        reason=reason,
        before=parties_snapshot(ids),
    )


def _one_party_change(kind: str, *, party_id: int, actor, reason: str, before: dict) -> PartyEvent:
    """A change to one party's own data: its state before, and after (taken now)."""
    return _event_write(
        kind=kind,
        party_id=party_id,
        party_ids=[party_id],
        actor=actor,
        reason=reason,
        before=before,
        after_of=[party_id],
    )


def override_set_event(*, party_id: int, actor, reason: str, before: dict) -> PartyEvent:
    """A golden value pinned by a steward."""
    return _one_party_change(
        EventKind.OVERRIDE_SET, party_id=party_id, actor=actor, reason=reason, before=before
    )


def override_removed_event(*, party_id: int, actor, reason: str, before: dict) -> PartyEvent:
    """A steward's pinned golden value removed: the survivorship rule decides again."""
    return _one_party_change(
        EventKind.OVERRIDE_REMOVED, party_id=party_id, actor=actor, reason=reason, before=before
    )


def contact_point_event(*, party_id: int, actor, reason: str, before: dict) -> PartyEvent:
    """An email or phone added, edited, marked or removed by a steward."""
    return _one_party_change(
        EventKind.CONTACT_POINT, party_id=party_id, actor=actor, reason=reason, before=before
    )


def access_export_event(*, party_id: int, actor, reason: str) -> PartyEvent:
    """A subject access export of the party (a snapshot of what it held when exported)."""
    return _event_write(
        kind=EventKind.ACCESS_EXPORT,
        party_id=party_id,
        party_ids=[party_id],
        actor=actor,
        reason=reason,
        before=parties_snapshot([party_id]),
    )


def erasure_event(
    *, party_id: int, party_ids: Sequence[int], actor, reason: str, changes: dict[str, Any]
) -> PartyEvent:
    """The erasure of the customer ``party_ids`` stand for (no snapshot: nothing personal is
    kept). ``reason`` already redacted by the caller."""
    return _event_write(
        kind=EventKind.ERASURE,
        party_id=party_id,
        party_ids=party_ids,
        actor=actor,
        reason=reason[:REASON_LENGTH] or "erasure request",
        changes=changes,
    )
