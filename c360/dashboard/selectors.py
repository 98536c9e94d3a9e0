"""Reads of the dashboard: aggregated figures from the latest snapshot, and the figures that
stay cheap to count live (index range scans over the last weeks: suggestions, merges,
decisions, import jobs)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from c360.dashboard.models import DashboardSnapshot
from consents.models import Channel
from matching.models import MatchSuggestion, SuggestionStatus
from parties.models import (
    DataQualityIssue,
    EventKind,
    ImportJob,
    ImportStatus,
    PartyEvent,
    SourceSystem,
)
from parties.selectors import AttentionItem, AttentionSummary, attention_summary

ACTIVITY_DAYS = 30
THROUGHPUT_DAYS = 14
ATTRIBUTE_LABELS = {
    "email": "Valid email",
    "phone": "E.164 phone",
    "address": "Full address",
    "birth_date": "Birth date",
}
ELIGIBILITY_CHANNELS = ("email", "sms", "phone", "mail")  # the channels the eligibility page lists


def snapshot_latest() -> DashboardSnapshot | None:
    return DashboardSnapshot.objects.order_by("-computed_at", "-id").first()


def home_summary(*, user, snapshot: DashboardSnapshot | None) -> AttentionSummary:
    """The home page's totals and "needs attention" items for the pages this user may open:
    from the snapshot when there is one (the live counts need full scans), else live."""
    if snapshot is None:
        return attention_summary(user=user)
    summary = AttentionSummary()
    if not user.has_perm("parties.view_party"):
        return summary
    summary.parties_active, summary.parties_merged = snapshot.parties_active, snapshot.parties_merged
    summary.source_records = snapshot.source_records
    sources = list(SourceSystem.objects.order_by("trust_rank", "name"))
    summary.source_systems = len(sources)
    summary.items = [
        AttentionItem(
            "Invalid email addresses",
            snapshot.invalid_emails,
            "Addresses that failed the syntax check on import.",
            "?contact=invalid_email",
        ),
        AttentionItem(
            "Invalid phone numbers",
            snapshot.invalid_phones,
            "Numbers that are not valid for their country.",
            "?contact=invalid_phone",
        ),
        AttentionItem(
            "Parties nobody can contact",
            snapshot.unreachable_parties,
            "Active parties with no active email, phone or address.",
            "?reachability=none",
        ),
    ]
    if user.has_perm("parties.view_importjob"):
        failed = ImportJob.objects.filter(
            status=ImportStatus.FAILED, created_at__gte=timezone.now() - timedelta(days=7)
        ).count()
        summary.items.append(
            AttentionItem(
                "Failed imports this week",
                failed,
                "Import jobs that stopped with an error; retry them after fixing the cause.",
                reverse("parties:imports"),
            )
        )
    if not sources:
        summary.items.append(
            AttentionItem(
                "No source systems yet", 0, "Register a source system and import its customers.", tone="info"
            )
        )
    if user.has_perm("parties.view_sourcesystem"):
        records = {f.source_system_id: f.records for f in snapshot.sources.all()}
        for source in sources:
            # the attribute the live path annotates (attention_summary) and the template reads;
            # django-stubs knows annotated attributes only on querysets that annotate them
            source.record_count = records.get(source.pk, 0)  # type: ignore[attr-defined]
        summary.sources = sources
    return summary


# --- aggregated figures -------------------------------------------------------------------


@dataclass
class SourceRow:
    source: SourceSystem
    records: int
    parties: int


@dataclass
class Rate:
    population: int
    complete: int
    valid: int
    url: str = ""

    @property
    def complete_pct(self) -> float:
        return 100 * self.complete / self.population if self.population else 0

    @property
    def valid_pct(self) -> float:
        return 100 * self.valid / self.population if self.population else 0

    @property
    def tone(self) -> str:
        if not self.population:
            return "none"
        return "good" if self.valid_pct >= 90 else "fair" if self.valid_pct >= 70 else "poor"


@dataclass
class AttributeRow:
    attribute: str
    label: str
    overall: Rate
    per_source: list[Rate] = field(default_factory=list)


@dataclass
class IssueRow:
    field: str
    reason: str
    count: int
    url: str


def _parties_url(**params) -> str:
    return f"{reverse('parties:list')}?{urlencode(params)}"


def source_rows(snapshot: DashboardSnapshot) -> list[SourceRow]:
    figures = {f.source_system_id: f for f in snapshot.sources.all()}
    return [
        SourceRow(
            s,
            figures[s.pk].records if s.pk in figures else 0,
            figures[s.pk].parties if s.pk in figures else 0,
        )
        for s in SourceSystem.objects.order_by("trust_rank", "name")
    ]


def attribute_rows(snapshot: DashboardSnapshot, sources: list[SourceSystem]) -> list[AttributeRow]:
    """Completeness and validity per attribute, overall and per source, with a link to the
    parties behind the gap where the party list can filter for it."""
    figures = {(f.source_system_id, f.attribute): f for f in snapshot.attributes.all()}
    invalid_filter = {"email": "invalid_email", "phone": "invalid_phone"}

    def rate(source_id: int | None, attribute: str) -> Rate:
        f = figures.get((source_id, attribute))
        url = ""
        if attribute in invalid_filter:
            params: dict[str, str | int] = {"contact": invalid_filter[attribute]}
            if source_id is not None:
                params["source"] = source_id
            url = _parties_url(**params)
        return Rate(f.population, f.complete, f.valid, url) if f else Rate(0, 0, 0, url)

    return [
        AttributeRow(a, label, rate(None, a), [rate(s.pk, a) for s in sources])
        for a, label in ATTRIBUTE_LABELS.items()
    ]


def issue_rows(snapshot: DashboardSnapshot, limit: int = 12) -> list[IssueRow]:
    base = reverse("dashboard:issues")
    return [
        IssueRow(f.field, f.reason, f.count, f"{base}?{urlencode({'field': f.field, 'reason': f.reason})}")
        for f in snapshot.issues.order_by("-count", "field", "reason")[:limit]
    ]


@dataclass
class ConsentRow:
    purpose: object
    cells: list  # charts.Cell per channel


def consent_rows(snapshot: DashboardSnapshot, *, user) -> tuple[list[str], list[ConsentRow]]:
    from c360.dashboard.charts import Cell

    may_list = user.has_perm("consents.view_contactpointtypeconsent")
    today = timezone.localdate().isoformat()
    by_purpose: dict[int, dict[str, Cell]] = defaultdict(dict)
    purposes = {}
    for f in snapshot.consents.select_related("purpose").order_by("purpose__name", "channel"):
        purposes[f.purpose_id] = f.purpose
        url = ""
        if may_list and f.channel in ELIGIBILITY_CHANNELS:
            url = (
                f"{reverse('consents:eligibility')}?"
                f"{urlencode({'channel': f.channel, 'purpose': f.purpose.code, 'on': today})}"
            )
        by_purpose[f.purpose_id][f.channel] = Cell(f.opt_in, f.opt_out, f.seen, f.not_seen, url)
    channels = [c for c in Channel.values if any(c in cells for cells in by_purpose.values())]
    rows = [
        ConsentRow(purposes[pid], [cells.get(c, Cell(0, 0, 0, 0)) for c in channels])
        for pid, cells in by_purpose.items()
    ]
    return [Channel(c).label for c in channels], rows


# --- live figures -------------------------------------------------------------------------


def _days(n: int) -> list[date]:
    today = timezone.localdate()
    return [today - timedelta(days=n - 1 - i) for i in range(n)]


def _since(days: list[date]):
    return timezone.make_aware(datetime.combine(days[0], datetime.min.time()))


def _per_day(queryset, column: str, days: list[date]) -> list[int]:
    counts = dict(
        queryset.filter(**{f"{column}__gte": _since(days)})
        .order_by()
        .annotate(day=TruncDate(column))
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    return [counts.get(day, 0) for day in days]


@dataclass
class Activity:
    days: list[date]
    created: list[int]
    merged: list[int]
    auto_merged: list[int]
    rejected: list[int]
    pending: int
    decided: int  # in the period


def activity(days: int = ACTIVITY_DAYS) -> Activity:
    """Suggestions made, merges (from the audit trail: by stewards and automatic) and "not a
    match" decisions per day. Each is a range scan of a (kind/status, time) index."""
    span = _days(days)
    events = PartyEvent.objects.all()
    rejected = _per_day(MatchSuggestion.objects.filter(status=SuggestionStatus.REJECTED), "decided_at", span)
    merged = _per_day(events.filter(kind=EventKind.MERGE), "created_at", span)
    auto = _per_day(events.filter(kind=EventKind.AUTO_MERGE), "created_at", span)
    return Activity(
        days=span,
        created=_per_day(MatchSuggestion.objects.all(), "created_at", span),
        merged=merged,
        auto_merged=auto,
        rejected=rejected,
        pending=MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).count(),
        decided=sum(merged) + sum(rejected),
    )


@dataclass
class StewardRow:
    name: str
    values: list[int]  # decisions per day
    css: str = "s0"  # the steward's colour in the chart

    @property
    def total(self) -> int:
        return sum(self.values)

    @property
    def per_day(self) -> float:
        return self.total / len(self.values) if self.values else 0


@dataclass
class Throughput:
    days: list[date]
    stewards: list[StewardRow]


def throughput(days: int = THROUGHPUT_DAYS) -> Throughput:
    """Suggestions decided per day per person (merged or not a match; automatic merges have
    no person and are left out)."""
    span = _days(days)
    rows = (
        MatchSuggestion.objects.order_by()
        .filter(
            Q(status=SuggestionStatus.MERGED) | Q(status=SuggestionStatus.REJECTED),
            decided_at__gte=_since(span),
            decided_by__isnull=False,
        )
        .annotate(day=TruncDate("decided_at"))
        .values_list("decided_by", "day")
        .annotate(n=Count("pk"))
    )
    per_user: dict[int, dict[date, int]] = defaultdict(dict)
    for user_id, day, n in rows:
        per_user[user_id][day] = n
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=per_user)}
    stewards = sorted(
        (
            StewardRow(
                users[user_id].get_full_name() or users[user_id].get_username(),
                [counts.get(day, 0) for day in span],
            )
            for user_id, counts in per_user.items()
        ),
        key=lambda row: (-row.total, row.name),
    )
    for i, row in enumerate(stewards):
        row.css = f"s{i % 8}"
    return Throughput(span, stewards)


def recent_imports(*, limit: int = 6) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("source_system").order_by("-created_at", "-id")[:limit])


def quality_issue_list(*, field: str = "", reason: str = "", source: int | None = None):
    """The data-quality issues behind one bar of the dashboard, newest records first."""
    issues = DataQualityIssue.objects.select_related("source_record__source_system", "source_record__party")
    if field:
        issues = issues.filter(field=field)
    if reason:
        issues = issues.filter(reason__startswith=reason)
    if source:
        issues = issues.filter(source_record__source_system_id=source)
    return issues.order_by("-id")


def steward_agreement() -> list:
    """Each steward's agreement with known-answer pairs and second reviews, lowest first, with
    the checks they disagreed on (matching's steward-quality service; the dashboard only shows
    it)."""
    from matching.services.quality import steward_agreement as agreement

    return agreement()
