"""Reads of the change-event outbox: the pull feed (``GET /api/v1/events/``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from parties.models import ChangeEvent, ChangeEventParty
from parties.services.outbox import change_event_document, change_events_sequence

FEED_LIMIT = 100
FEED_LIMIT_MAX = 1000


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    last_id: int  # the cursor to ask from next (``after``): the last event's id, or ``after``
    has_more: bool


def change_events_after(
    *, after: int, types: Sequence[str] = (), party_id: int | None = None, limit: int = FEED_LIMIT
) -> FeedPage:
    """Events with an id above ``after``, oldest first: of ``types`` (any when empty), about
    ``party_id`` (as the party of the event or one of its other parties) when given. Numbers
    committed events first, so the feed does not wait for a worker."""
    change_events_sequence()
    events = ChangeEvent.objects.filter(sequence__gt=after)
    if types:
        events = events.filter(type__in=types)
    if party_id is not None:
        also = ChangeEventParty.objects.filter(party_id=party_id).values("event_id")
        events = events.filter(Q(party_id=party_id) | Q(pk__in=also))
    page = list(events.order_by("sequence")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    others: dict[int, list[int]] = {}
    for event_id, other in ChangeEventParty.objects.filter(event_id__in=[e.pk for e in page]).values_list(
        "event_id", "party_id"
    ):
        others.setdefault(event_id, []).append(other)
    return FeedPage(
        events=[change_event_document(e, others.get(e.pk, ())) for e in page],
        last_id=(page[-1].sequence or after) if page else after,
        has_more=has_more,
    )
