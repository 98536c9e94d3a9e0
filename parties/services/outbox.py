"""Change events for other systems: one function per event type, each writing its
``ChangeEvent`` in the caller's transaction (the transactional outbox), and the sequencer that
numbers committed events.

Events say what happened to which party (ids, kinds, field names), never a customer's
values: a consumer reads the party from the API when it needs them, and an erased customer
leaves nothing personal in the outbox or in a subscriber's delivery log.

Delivery is after commit: the first event of a transaction schedules, once, the
``change_events_committed`` hooks (the webhooks' dispatch); ``change_events_sequence`` numbers
what has committed, in one serial order (see ``ChangeEvent``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from parties.extensions import change_events_committed_notify
from parties.models import ChangeEvent, ChangeEventParty, ChangeEventSequence, ChangeEventType
from parties.services.bulk_writer import rows_insert

SEQUENCE_BATCH = 5000


def _actor_text(actor: Any) -> str:
    """A user (an API token acts as its user) by user name; a text as is; nobody: "system"."""
    if actor is None or actor == "":
        return "system"
    if isinstance(actor, str):
        return actor[:200]
    return actor.get_username()[:200]


def _committed() -> None:
    change_events_committed_notify()


def _notify_after_commit() -> None:
    """Schedule the committed hooks once per transaction (outside one: now)."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(entry[1] is _committed for entry in conn.run_on_commit):
        return
    transaction.on_commit(_committed)


def _event_add(
    type: str,
    *,
    party_id: int,
    actor: Any,
    data: dict[str, Any] | None = None,
    other_party_ids: Iterable[int] = (),
    at: datetime | None = None,
) -> ChangeEvent:
    event = ChangeEvent.objects.create(
        type=type,
        party_id=party_id,
        occurred_at=at or timezone.now(),
        actor=_actor_text(actor),
        data=data or {},
    )
    others = sorted(set(other_party_ids) - {party_id})
    if others:
        ChangeEventParty.objects.bulk_create([ChangeEventParty(event=event, party_id=pk) for pk in others])
    _notify_after_commit()
    return event


# ---- one function per event type -------------------------------------------------------


def parties_created_events(*, party_ids: Sequence[int], actor: Any, source_id: int | None = None) -> int:
    """New parties (an import's batch, a form, the API): one event each, written in bulk."""
    if not party_ids:
        return 0
    now = timezone.now()
    label = _actor_text(actor)
    data = {"source_system_id": source_id} if source_id is not None else {}
    rows_insert(  # COPY on PostgreSQL: an import's batch writes thousands at once
        ChangeEvent,
        [
            {
                "type": ChangeEventType.PARTY_CREATED,
                "party_id": pk,
                "occurred_at": now,
                "actor": label,
                "data": data,
            }
            for pk in party_ids
        ],
        now=now,
    )
    _notify_after_commit()
    return len(party_ids)


def party_updated_event(
    *, party_id: int, fields: Sequence[str], actor: Any, source_id: int | None = None
) -> ChangeEvent:
    """The party's data changed: ``fields``, the golden attributes that changed (names only;
    empty when only its source data did, e.g. a source's row with a new phone);
    ``source_id``, the source system whose row changed it."""
    data: dict[str, Any] = {"fields": sorted(fields)}
    if source_id is not None:
        data["source_system_id"] = source_id
    return _event_add(ChangeEventType.PARTY_UPDATED, party_id=party_id, actor=actor, data=data)


def party_merged_event(
    *, survivor_id: int, merged_ids: Sequence[int], automatic: bool, suggestion_id: int | None, actor: Any
) -> ChangeEvent:
    """``merged_ids`` became part of ``survivor_id`` (their ids keep resolving to it)."""
    return _event_add(
        ChangeEventType.PARTY_MERGED,
        party_id=survivor_id,
        actor=actor,
        data={
            "survivor_id": survivor_id,
            "merged_ids": sorted(merged_ids),
            "automatic": automatic,
            "suggestion_id": suggestion_id,
        },
        other_party_ids=merged_ids,
    )


def party_unmerged_event(*, survivor_id: int, restored_ids: Sequence[int], actor: Any) -> ChangeEvent:
    """A merge undone: ``restored_ids`` are customers of their own again."""
    return _event_add(
        ChangeEventType.PARTY_UNMERGED,
        party_id=survivor_id,
        actor=actor,
        data={"survivor_id": survivor_id, "restored_ids": sorted(restored_ids)},
        other_party_ids=restored_ids,
    )


def party_split_event(*, party_id: int, new_party_ids: Sequence[int], actor: Any) -> ChangeEvent:
    """Source records of ``party_id`` moved out into the new parties ``new_party_ids``."""
    return _event_add(
        ChangeEventType.PARTY_SPLIT,
        party_id=party_id,
        actor=actor,
        data={"party_id": party_id, "new_party_ids": sorted(new_party_ids)},
        other_party_ids=new_party_ids,
    )


def party_erased_event(*, party_id: int, party_ids: Sequence[int], actor: Any) -> ChangeEvent:
    """A customer erased on request: ids only (every party id the customer had)."""
    return _event_add(
        ChangeEventType.PARTY_ERASED,
        party_id=party_id,
        actor=actor,
        data={"party_ids": sorted(set(party_ids) | {party_id})},
        other_party_ids=party_ids,
    )


def consent_changed_event(
    *, party_id: int, scope: str, key: str, status: str | None, previous_status: str | None, actor: Any
) -> ChangeEvent:
    """A consent of ``party_id`` changed: ``key`` is channel/purpose (a channel consent) or
    kind#point/purpose (one email's or phone's); ``status`` None: the consent was removed."""
    return _event_add(
        ChangeEventType.CONSENT_CHANGED,
        party_id=party_id,
        actor=actor,
        data={"scope": scope, "key": key, "status": status, "previous_status": previous_status},
    )


def preference_changed_event(*, party_id: int, fields: Sequence[str], actor: Any) -> ChangeEvent:
    """Privacy preferences (do not process/profile/solicit, preferred channel, …) changed."""
    return _event_add(
        ChangeEventType.PREFERENCE_CHANGED, party_id=party_id, actor=actor, data={"fields": sorted(fields)}
    )


_CONTACT_POINT_TYPES = {
    "added": ChangeEventType.CONTACT_POINT_ADDED,
    "corrected": ChangeEventType.CONTACT_POINT_CORRECTED,
    "verified": ChangeEventType.CONTACT_POINT_VERIFIED,
    "deactivated": ChangeEventType.CONTACT_POINT_DEACTIVATED,
}


def contact_point_changed_event(
    *, change: str, party_id: int, kind: str, point_id: int, actor: Any
) -> ChangeEvent:
    """An email or phone of ``party_id`` ``change``d (added, corrected, verified, deactivated)."""
    return _event_add(
        _CONTACT_POINT_TYPES[change],
        party_id=party_id,
        actor=actor,
        data={"contact_point": kind, "contact_point_id": point_id},
    )


# ---- the sequencer ---------------------------------------------------------------------


def change_events_sequence(*, batch: int = SEQUENCE_BATCH) -> int:
    """Number the committed events that have no sequence yet, in ``id`` order, a batch per
    transaction, one sequencer at a time (the sequence row is locked), until none is left.
    Returns how many it numbered. Safe to call from anywhere at any time."""
    numbered = 0
    table = ChangeEvent._meta.db_table
    while True:
        with transaction.atomic():
            row, _ = ChangeEventSequence.objects.select_for_update().get_or_create(pk=1)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET sequence = numbered.seq FROM ("  # noqa: S608 (our table name)
                    f"  SELECT id, %s + ROW_NUMBER() OVER (ORDER BY id) AS seq FROM {table}"
                    "   WHERE sequence IS NULL ORDER BY id LIMIT %s"
                    f") AS numbered WHERE {table}.id = numbered.id",
                    [row.last, batch],
                )
                count = cursor.rowcount
            if count:
                ChangeEventSequence.objects.filter(pk=1).update(last=row.last + count)
        numbered += count
        if count < batch:
            return numbered


def change_event_document(event: ChangeEvent, other_party_ids: Sequence[int] = ()) -> dict[str, Any]:
    """What other systems receive (webhook body, feed item): the same shape everywhere."""
    return {
        "id": event.sequence,
        "type": event.type,
        "party_id": event.party_id,
        "party_ids": sorted({event.party_id, *other_party_ids}),
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "actor": event.actor,
        "data": event.data,
    }
