"""Reads of the merge queue: the filtered queue, its counts, the neighbours of a suggestion,
and the review sheet (the cluster side by side with the golden record a merge would give)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from c360.kernel.addresses import address_text
from matching.models import MatchSuggestion, MatchSuggestionMember, SuggestionStatus
from matching.selectors_review import (
    Conflict,
    GoldenLine,
    PointGroup,
    golden_contact_points,
    golden_lines,
    merge_conflicts,
)
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Engagement,
    GoldenOverride,
    Membership,
    Party,
    PartyIdentification,
    SourceRecord,
)
from parties.services.golden import (
    ATTRIBUTE_LABELS,
    GOLDEN_ATTRIBUTES,
    GoldenValue,
    candidates_of,
    golden_compute,
    rules_current,
)
from parties.services.overrides import override_value_clean


def queue_base() -> QuerySet[MatchSuggestion]:
    """Pending suggestions with their members' parties (two more queries per page)."""
    return (
        MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
        .select_related("claimed_by")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=MatchSuggestionMember.objects.select_related("party").order_by("-score", "party_id"),
            )
        )
    )


class QueuePaginator(Paginator):
    """Finds a page's ids first (an index-only scan, cheap however deep the page), then
    loads just those rows with their members. With ``count_cap``, counting stops there
    (``capped`` says so): a filter matching 40,000 suggestions need not count them all."""

    object_list: QuerySet[MatchSuggestion]

    def __init__(self, *args, count_cap: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.count_cap = count_cap

    @cached_property
    def count(self) -> int:
        if self.count_cap is None:
            return self.object_list.count()
        return self.object_list.order_by().values("pk")[: self.count_cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count_cap is not None and self.count > self.count_cap

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        rows = {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}
        # Paginator._get_page (what Paginator.page calls) is Django's, missing from django-stubs
        return self._get_page(  # type: ignore[attr-defined]
            [rows[pk] for pk in ids if pk in rows], number, self
        )


@dataclass
class QueueCounts:
    pending: int
    decided_today_by_me: int
    decided_today: int
    claimed_by_me: int


def queue_counts(*, user, pending: int | None = None) -> QueueCounts:
    """The queue's counters (``pending``: already counted by the caller)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    decided = MatchSuggestion.objects.filter(
        status__in=[SuggestionStatus.MERGED, SuggestionStatus.REJECTED, SuggestionStatus.SPLIT],
        decided_at__gte=start,
    )
    today = decided.aggregate(all=Count("pk"), mine=Count("pk", filter=Q(decided_by=user)))
    from matching.services.review import claim_cutoff

    return QueueCounts(
        pending=pending
        if pending is not None
        else MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).count(),
        decided_today_by_me=today["mine"],
        decided_today=today["all"],
        claimed_by_me=MatchSuggestion.objects.filter(
            status=SuggestionStatus.PENDING, claimed_by=user, claimed_at__gte=claim_cutoff()
        ).count(),
    )


def _first_after(
    queryset: QuerySet[MatchSuggestion],
    ordering: Sequence[str],
    values: Mapping[str, Any],
    *,
    before: bool = False,
) -> int | None:
    """The first row strictly after (or before) ``values`` in ``ordering``. Asked level by
    level, deepest first — "same score, next id", then "next lower score" — because each
    level is then one short index range scan, where a single OR condition would make
    PostgreSQL walk the index from the start of the queue."""
    if before:
        ordering = [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    for depth in range(len(ordering) - 1, -1, -1):
        name = ordering[depth].lstrip("-")
        equal = {o.lstrip("-"): values[o.lstrip("-")] for o in ordering[:depth]}
        step = {f"{name}__{'lt' if ordering[depth].startswith('-') else 'gt'}": values[name]}
        found = (
            queryset.filter(**equal, **step).order_by(*ordering[depth:]).values_list("pk", flat=True).first()
        )
        if found is not None:
            return found
    return None


def queue_neighbours(
    queryset: QuerySet[MatchSuggestion], suggestion_id: int
) -> tuple[int | None, int | None]:
    """(previous, next) pending suggestion around ``suggestion_id`` in the queue's order
    (the filtered queryset's); a suggestion just decided keeps its old place."""
    # the queue's orderings (matching.filters.ORDERS) are field names, all that this reads
    ordering = [o for o in queryset.query.order_by if isinstance(o, str)] or ["-score", "id"]
    names = [o.lstrip("-") for o in ordering]
    values = MatchSuggestion.objects.filter(pk=suggestion_id).values(*names).first()
    if values is None:
        return None, queryset.values_list("pk", flat=True).first()
    return (_first_after(queryset, ordering, values, before=True), _first_after(queryset, ordering, values))


# --- the review sheet ----------------------------------------------------------------------


@dataclass
class Cell:
    values: list[dict] = field(default_factory=list)  # {"value", "source", "date", "golden"}


@dataclass
class Row:
    label: str
    cells: list[Cell]
    differs: bool = False
    attribute: str = ""  # golden attributes: the steward may choose the surviving value
    choices: list[str] = field(default_factory=list)
    evidence: str = ""


@dataclass
class Preview:
    golden: dict[str, GoldenValue]
    conflicts: list[Conflict]
    survivor_id: int
    merging: list[int]
    contact_points: list[PointGroup] = field(default_factory=list)  # what the survivor would hold
    survivor: Party | None = None

    @property
    def lines(self) -> list[GoldenLine]:
        return golden_lines(self.golden)


@dataclass
class ReviewSheet:
    suggestion: MatchSuggestion
    parties: list[Party]
    member_scores: dict[int, float]
    rows: list[Row]
    preview: Preview
    summaries: dict[int, dict]


EVIDENCE_OF = {
    "given_name": "given_name",
    "family_name": "family_name",
    "organization_name": "organization_name",
    "birth_date": "birth_date",
    "Emails": "emails",
    "Phones": "phones",
    "Addresses": "address_line1",
    "Identifiers": "identifiers",
}


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else ("" if value is None else str(value))


def review_sheet(
    suggestion: MatchSuggestion,
    *,
    merging: Sequence[int] | None = None,
    survivor_id: int | None = None,
    chosen: Mapping[str, str] | None = None,
) -> ReviewSheet:
    members = dict(suggestion.members.values_list("party_id", "score"))
    ids = sorted(members, key=lambda pid: (-members[pid], pid))
    parties = {p.pk: p for p in Party.objects.filter(pk__in=ids)}
    parties_in_order = [parties[pid] for pid in ids if pid in parties]
    records = defaultdict(list)
    for record in (
        SourceRecord.objects.filter(party_id__in=ids)
        .select_related("source_system")
        .order_by("source_system__trust_rank", "pk")
    ):
        records[record.party_id].append(record)
    rules = rules_current()
    overrides: defaultdict[int, dict[str, GoldenOverride]] = defaultdict(dict)
    for override in GoldenOverride.objects.filter(party_id__in=ids):
        overrides[override.party_id][override.attribute] = override
    goldens = {
        pid: golden_compute(candidates_of(records[pid]), rules=rules, overrides=overrides[pid]) for pid in ids
    }
    rows = [_attribute_row(a, ids, records, goldens, suggestion.evidence) for a in GOLDEN_ATTRIBUTES]
    rows = [r for r in rows if any(c.values for c in r.cells)]
    rows += _contact_rows(ids, suggestion.evidence)
    rows.append(
        Row(
            "Source records",
            [
                Cell(
                    [
                        {
                            "value": f"{r.source_system.name} {r.source_key}",
                            "source": r.source_system.get_kind_display(),
                            "date": _date(r.source_updated_at or r.last_seen_at),
                        }
                        for r in records[pid]
                    ]
                )
                for pid in ids
            ],
        )
    )
    # None: the page as opened, every member ticked; a list: what the steward ticked (maybe none)
    merging = [pid for pid in (ids if merging is None else merging) if pid in members]
    if survivor_id not in merging:
        from parties.services.merge import survivor_default

        survivor_id = survivor_default(merging) if len(merging) >= 1 else ids[0]
    preview = merge_preview(merging, survivor_id, records, rules, overrides, chosen or {}, parties=parties)
    return ReviewSheet(
        suggestion=suggestion,
        parties=parties_in_order,
        member_scores=members,
        rows=rows,
        preview=preview,
        summaries=_summaries(ids),
    )


def _attribute_row(attribute: str, ids: Sequence[int], records, goldens, evidence) -> Row:
    cells, seen = [], []
    for pid in ids:
        golden = goldens[pid][attribute]
        values = []
        for record in records[pid]:
            value = (record.standardized.get("attributes") or {}).get(attribute)
            if value:
                values.append(
                    {
                        "value": value,
                        "source": record.source_system.name,
                        "date": _date(record.source_updated_at or record.last_seen_at),
                        "golden": record.pk == golden.record_id,
                    }
                )
                if value not in seen:
                    seen.append(value)
        if golden.override:
            values.insert(
                0,
                {
                    "value": _text(golden.value),
                    "source": "steward override",
                    "date": _date(golden.override.created_at),
                    "golden": True,
                },
            )
            if _text(golden.value) not in seen:
                seen.append(_text(golden.value))
        cells.append(Cell(values))
    goldens_seen = {_text(goldens[pid][attribute].value) for pid in ids} - {""}
    return Row(
        ATTRIBUTE_LABELS[attribute],
        cells,
        differs=len(goldens_seen) > 1,
        attribute=attribute,
        choices=seen,
        evidence=(evidence.get(EVIDENCE_OF.get(attribute, "")) or {}).get("agreement", ""),
    )


def _contact_rows(ids: Sequence[int], evidence) -> list[Row]:
    rows = []
    for label, model, fmt in (
        ("Emails", ContactPointEmail, lambda p: p.normalized),
        ("Phones", ContactPointPhone, lambda p: p.normalized),
        ("Addresses", ContactPointAddress, address_text),
        ("Identifiers", PartyIdentification, lambda p: f"{p.get_identifier_type_display()} {p.value}"),
    ):
        points = model.objects.filter(party_id__in=ids).select_related("source_record__source_system")
        by_value: dict[str, dict[int, Any]] = defaultdict(dict)
        for point in points:
            by_value[fmt(point)][point.party_id] = point
        for value, holders in sorted(by_value.items()):
            cells = []
            for pid in ids:
                held = holders.get(pid)
                record = getattr(held, "source_record", None) if held else None
                cells.append(
                    Cell(
                        [
                            {
                                "value": value,
                                "source": record.source_system.name if record else "",
                                "date": _date(
                                    getattr(held, "last_seen_at", None)
                                    or (record.last_seen_at if record else None)
                                ),
                                "invalid": getattr(held, "validity", "") == "invalid",
                            }
                        ]
                        if held
                        else []
                    )
                )
            rows.append(
                Row(
                    label[:-1] if label != "Addresses" else "Address",
                    cells,
                    differs=len(holders) < len(ids),
                    evidence=(evidence.get(EVIDENCE_OF[label]) or {}).get("agreement", ""),
                )
            )
    return rows


OPEN_STATUSES = ["open", "pending", "processing", "shipped"]


def _summaries(ids: Sequence[int]) -> dict[int, dict]:
    summary: dict[int, dict[str, Any]] = {pid: {"engagements": 0, "open": 0, "tiers": []} for pid in ids}
    for row in (
        Engagement.objects.filter(party_id__in=ids)
        .values("party_id")
        .annotate(n=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES)))
    ):
        summary[row["party_id"]].update(engagements=row["n"], open=row["open"])
    for party_id, program, tier in Membership.objects.filter(party_id__in=ids).values_list(
        "party_id", "program_name", "tier"
    ):
        summary[party_id]["tiers"].append(f"{program} {tier}".strip())
    return summary


def merge_preview(
    merging: Sequence[int],
    survivor_id: int,
    records,
    rules,
    overrides,
    chosen: Mapping[str, str],
    *,
    parties: Mapping[int, Party] | None = None,
) -> Preview:
    """The golden record merging ``merging`` into ``survivor_id`` would give (attributes by
    the survivorship rules, contact points and identifiers as the merge keeps them), and the
    conflicts it would create (``matching.selectors_review``)."""
    candidates = candidates_of([r for pid in merging for r in records[pid]])
    conflicts: list[Conflict] = []
    pinned = dict(overrides.get(survivor_id, {}))
    for pid in merging:
        for attribute, override in overrides.get(pid, {}).items():
            pinned.setdefault(attribute, override)
    for attribute, value in chosen.items():
        try:
            pinned[attribute] = GoldenOverride(
                attribute=attribute, value=override_value_clean(attribute, value)
            )
        except ValidationError as exc:
            conflicts.append(
                Conflict("chosen", f"{ATTRIBUTE_LABELS.get(attribute, attribute)}: {' '.join(exc.messages)}")
            )
    golden = golden_compute(candidates, rules=rules, overrides=pinned)
    if parties is None:
        parties = Party.objects.in_bulk(list(merging))
    conflicts += merge_conflicts(
        merging=merging, survivor_id=survivor_id, records=records, golden=golden, parties=parties
    )
    return Preview(
        golden=golden,
        conflicts=conflicts,
        survivor_id=survivor_id,
        merging=list(merging),
        contact_points=golden_contact_points(merging, survivor_id) if merging else [],
        survivor=parties.get(survivor_id),
    )
