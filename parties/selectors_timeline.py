"""The party page's one timeline: touch points, steward actions and contact-detail edits from
the audit trail, and whatever other apps register (``parties.extensions.timeline_source_register``:
the consent ledger), interleaved newest first, filtered by type chips, paginated.

A page costs a fixed number of queries per source, whatever the number of entries: one query
merges the sources' rows by time and slices the page (``UNION ALL`` of their ``(time, id)``,
ordered, with an offset: the database reads index entries, not rows), then each source reads
the entries of that one page only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Value
from django.urls import reverse

from c360.kernel.labels import field_label
from parties.extensions import TimelineEntry, TimelineQuery, TimelineSource, timeline_sources
from parties.models import GOLDEN_ATTRIBUTE_CHOICES, Engagement, EngagementType, EventKind, PartyEvent
from parties.selectors import party_and_merged_ids
from parties.selectors_engagement import TIMELINE_PAGE_SIZE

CONTACT = "contact"
STEWARD = "steward"
_EVENT_TYPE = {EventKind.CONTACT_POINT.value: CONTACT}  # every other kind: a steward action


# Touch points


def _engagements(query: TimelineQuery) -> QuerySet[Engagement]:
    # The party's own: a merge moves the absorbed parties' touch points to the survivor (and an
    # unmerge back), so they are all here, on the (party, occurred_at) index, as in the totals.
    rows = Engagement.objects.filter(party_id=query.party_ids[0])
    if query.types:
        rows = rows.filter(engagement_type__in=query.types)
    return rows


def _engagement_counts(party_ids: Sequence[int]) -> Mapping[str, int]:
    return dict(
        Engagement.objects.filter(party_id=party_ids[0])
        .order_by()
        .values_list("engagement_type")
        .annotate(n=Count("pk"))
    )


def _engagement_entries(ids: Sequence[int], query: TimelineQuery) -> dict[int, TimelineEntry]:
    return {
        e.pk: TimelineEntry(
            at=e.occurred_at,
            type=e.engagement_type,
            label=e.get_engagement_type_display(),
            text="",
            engagement=e,
        )
        for e in Engagement.objects.filter(pk__in=ids).select_related("source_system")
    }


TOUCH_POINTS = TimelineSource(
    name="touch_points",
    filters=EngagementType.choices,
    visible=lambda user: True,
    counts=_engagement_counts,
    rows=_engagements,
    time_field="occurred_at",
    entries=_engagement_entries,
)


# The audit trail: contact-detail edits and steward actions


def _events(query: TimelineQuery) -> QuerySet[PartyEvent]:
    through = PartyEvent.parties.through.objects.filter(party_id__in=query.party_ids)
    events = PartyEvent.objects.filter(pk__in=through.values("partyevent_id"))
    contact = Q(kind=EventKind.CONTACT_POINT)
    if list(query.types) == [CONTACT]:
        events = events.filter(contact)
    elif list(query.types) == [STEWARD]:
        events = events.exclude(contact)
    return events


def _event_counts(party_ids: Sequence[int]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    kinds = _events(TimelineQuery(party_ids=party_ids)).order_by().values_list("kind").annotate(n=Count("pk"))
    for kind, n in kinds:
        type_ = _EVENT_TYPE.get(kind, STEWARD)
        counts[type_] = counts.get(type_, 0) + n
    return counts


# The badge of each kind of audit event: short (the history page names them in full).
_EVENT_BADGE: dict[str, str] = {
    EventKind.MERGE: "Merge",
    EventKind.AUTO_MERGE: "Auto-merge",
    EventKind.UNMERGE: "Unmerge",
    EventKind.SPLIT: "Split",
    EventKind.REJECT: "Not a match",
    EventKind.OVERRIDE_SET: "Override",
    EventKind.OVERRIDE_REMOVED: "Override",
    EventKind.CONTACT_POINT: "Contact",
    EventKind.ACCESS_EXPORT: "Export",
    EventKind.ERASURE: "Erasure",
}
_CONTACT_REASON = re.compile(
    r"^(email|phone|address) (added|corrected|verified|deactivated|[a-z ]{1,30}?)(:|$)"
)
_ATTRIBUTE_LABELS = dict(GOLDEN_ATTRIBUTE_CHOICES)


def _parties_text(ids: Sequence[int]) -> str:
    return ", ".join(f"#{pk}" for pk in ids) or "another party"


def _event_text(event: PartyEvent, parties: Sequence[int], page_party: int) -> str:
    """The event in words, from its kind, parties and score only: never from its reason or
    snapshots, which hold the customer's values (and are what an erasure redacts)."""
    kind, main = event.kind, event.party_id
    others = _parties_text([pk for pk in parties if pk not in (main, page_party)])
    mine = main == page_party  # else this party was the other one (or was merged into this one since)
    score = f" (score {event.score:.2f})" if event.score is not None else ""
    if kind in (EventKind.MERGE, EventKind.AUTO_MERGE):
        how = " automatically" if kind == EventKind.AUTO_MERGE else ""
        if mine:
            return f"Merged{how} with {others}{score}"
        return f"Merged{how} into #{main}{score}"
    if kind == EventKind.UNMERGE:
        return f"Unmerged from {others} (merge undone)" if mine else f"Unmerged from #{main} (merge undone)"
    if kind == EventKind.SPLIT:
        return f"Split: source records moved out to {others}" if mine else f"Split off from #{main}"
    if kind == EventKind.REJECT:
        return f"Not a match with {_parties_text([pk for pk in parties if pk != page_party])}{score}"
    if kind in (EventKind.OVERRIDE_SET, EventKind.OVERRIDE_REMOVED):
        attribute = re.match(r"^(\w+)", event.reason or "")
        name = _ATTRIBUTE_LABELS.get(attribute.group(1), "") if attribute else ""
        what = name.lower() or "a golden value"
        return f"Override: {what} pinned" if kind == EventKind.OVERRIDE_SET else f"Override removed: {what}"
    if kind == EventKind.CONTACT_POINT:
        found = _CONTACT_REASON.match(event.reason or "")
        if found:
            return f"{field_label(found.group(1))} {found.group(2)}"
        return "Contact details edited"
    if kind == EventKind.ACCESS_EXPORT:
        return "Subject access export"
    if kind == EventKind.ERASURE:
        return "Erased on request (right to be forgotten)"
    return event.get_kind_display()


def _event_entries(ids: Sequence[int], query: TimelineQuery) -> dict[int, TimelineEntry]:
    members: dict[int, list[int]] = {}
    for event_id, party_id in (
        PartyEvent.parties.through.objects.filter(partyevent_id__in=ids)
        .order_by("party_id")
        .values_list("partyevent_id", "party_id")
    ):
        members.setdefault(event_id, []).append(party_id)
    page_party = query.party_ids[0]
    entries = {}
    for event in PartyEvent.objects.filter(pk__in=ids):
        owner = event.party_id if event.party_id in query.party_ids else page_party
        entries[event.pk] = TimelineEntry(
            at=event.created_at,
            type=_EVENT_TYPE.get(event.kind, STEWARD),
            label=_EVENT_BADGE.get(event.kind, event.get_kind_display()),
            text=_event_text(event, members.get(event.pk, []), page_party),
            who=event.actor_label,
            url=reverse("parties:history", args=[owner]),
            url_label="History",
        )
    return entries


AUDIT_TRAIL = TimelineSource(
    name="audit_trail",
    filters=[(CONTACT, "Contact details"), (STEWARD, "Steward actions")],
    visible=lambda user: user.has_perm("parties.view_partyevent"),
    counts=_event_counts,
    rows=_events,
    time_field="created_at",
    entries=_event_entries,
)


# The timeline


@dataclass
class Timeline:
    """What the page shows: a page of entries, the chips ``[(value, label, count)]`` (types
    with entries only), the chosen types and those not understood."""

    page: Page
    chips: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0
    types: list[str] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)


def timeline_sources_for(user) -> list[TimelineSource]:
    """The sources ``user`` may see: touch points, those other apps registered (the consent
    ledger), the audit trail — the order of their chips."""
    return [source for source in (TOUCH_POINTS, *timeline_sources(), AUDIT_TRAIL) if source.visible(user)]


def timeline_types_parse(values: list[str], sources: Sequence[TimelineSource]) -> tuple[list[str], list[str]]:
    """The known filter values among ``values`` (codes or labels, any case, comma-separated
    allowed), and the values that are none."""
    by_name: dict[str, str] = {}
    for source in sources:
        for value, label in source.filters:
            by_name[value.lower()] = value
            by_name[label.lower()] = value
    known: list[str] = []
    unknown: list[str] = []
    for raw in values:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            found = by_name.get(part.lower())
            if found is None:
                unknown.append(part)
            elif found not in known:
                known.append(found)
    return known, unknown


def party_timeline(
    *,
    user,
    party,
    type_values: list[str],
    page: int | str = 1,
    per_page: int = TIMELINE_PAGE_SIZE,
    engagement_counts: Mapping[str, int] | None = None,
) -> Timeline:
    """The party's timeline as ``user`` may see it: the party and every party merged into it,
    of the chosen types (all when none), page ``page`` (out of range: the nearest page).
    ``engagement_counts``: the touch points per type when the caller has them already."""
    sources = timeline_sources_for(user)
    types, unknown = timeline_types_parse(type_values, sources)
    party_ids = party_and_merged_ids(party.pk)
    erased = party.erased_at is not None
    chips: list[tuple[str, str, int]] = []
    chosen: list[tuple[TimelineSource, list[str], int]] = []  # source, its chosen types, their count
    for source in sources:
        if source is TOUCH_POINTS and engagement_counts is not None:
            counts = engagement_counts
        else:
            counts = source.counts(party_ids)
        own = [value for value, _ in source.filters]
        chips += [(value, label, counts[value]) for value, label in source.filters if counts.get(value)]
        mine = [value for value in types if value in own]
        if not types or mine:
            chosen.append((source, mine, sum(counts.get(value, 0) for value in (mine or own))))
    chosen = [item for item in chosen if item[2]]
    count = sum(n for _, _, n in chosen)
    result = Paginator(range(count), per_page).get_page(page)
    start, size = (result.number - 1) * per_page, len(result.object_list)
    keys: list[tuple[Any, int, TimelineSource]] = []
    if size:
        # The sources' rows merged by time, newest first, and sliced by the database: one query
        # whose cost is the rows before the page (index entries, two columns), never the rows.
        parts = [
            source.rows(TimelineQuery(party_ids=party_ids, types=mine, erased=erased))
            .order_by()
            .annotate(tl_at=F(source.time_field), tl_id=F("pk"), tl_source=Value(n))
            .values_list("tl_at", "tl_id", "tl_source")
            for n, (source, mine, _) in enumerate(chosen)
        ]
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        window = union.order_by("-tl_at", "-tl_id", "tl_source")[start : start + size]
        keys = [(at, pk, chosen[n][0]) for at, pk, n in window]
    wanted: dict[str, list[int]] = {}
    for _, pk, source in keys:
        wanted.setdefault(source.name, []).append(pk)
    read = {
        source.name: source.entries(
            wanted[source.name], TimelineQuery(party_ids=party_ids, types=mine, erased=erased)
        )
        for source, mine, _ in chosen
        if source.name in wanted
    }
    entries: list[TimelineEntry] = [read[src.name][pk] for _, pk, src in keys if pk in read[src.name]]
    result.object_list = entries  # type: ignore[assignment]  # the page's rows, in place of the numbers
    total = sum(n for _, _, n in chips)
    return Timeline(page=result, chips=chips, total=total, types=types, unknown_types=unknown)
