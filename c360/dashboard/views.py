"""The dashboard's pages: its part of the home page, the list of data-quality issues behind
its bars, and an administrator's "Refresh now"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from c360.dashboard import charts
from c360.dashboard import selectors as s
from c360.kernel.params import parse_id, parse_text

VIEW = "dashboard.view_dashboardsnapshot"
REFRESH = "dashboard.refresh_dashboardsnapshot"
CONSENTS = "consents.view_contactpointtypeconsent"
QUALITY = "matching.change_matchsettings"  # who may open matching's steward-quality page


def _consent_chart(snapshot, user):
    columns, rows = s.consent_rows(snapshot, user=user)
    if not rows:
        return None
    return charts.consent_matrix(
        "consent-coverage",
        "Consent coverage per purpose and channel",
        columns,
        [(row.purpose.name, row.cells) for row in rows],
    )


def home_context(request: HttpRequest) -> dict:
    """What the home page shows this user: the "needs attention" summary for everyone who may
    open parties; the whole dashboard for stewards and administrators; consent coverage for
    those who work with consents (marketing)."""
    user = request.user
    snapshot = s.snapshot_latest()
    context = {
        "summary": s.home_summary(user=user, snapshot=snapshot),
        "snapshot": snapshot,
        "may_refresh": user.has_perm(REFRESH),
    }
    if user.has_perm(VIEW):
        context["dashboard"] = _dashboard(snapshot, user)
    elif snapshot is not None and user.has_perm(CONSENTS):
        context["consent_chart"] = _consent_chart(snapshot, user)
    return context


def _dashboard(snapshot, user) -> dict:
    activity = s.activity()
    throughput = s.throughput()
    board = {
        "activity": activity,
        "activity_chart": charts.column_chart(
            "activity",
            "Suggestions and merges per day",
            activity.days,
            [
                charts.Series("Merged by a steward", activity.merged, "s0"),
                charts.Series("Merged automatically", activity.auto_merged, "s1"),
                charts.Series("Not a match", activity.rejected, "s3"),
                charts.Series("New suggestions", activity.created, "s2", kind="line"),
            ],
        ),
        "throughput": throughput,
        "throughput_chart": charts.column_chart(
            "throughput",
            "Decisions per day per steward",
            throughput.days,
            [charts.Series(row.name, row.values, row.css) for row in throughput.stewards],
            width=480,
        )
        if throughput.stewards
        else None,
        "imports": s.recent_imports(),
        # each steward's agreement with known answers and second reviews (issue 18): for those
        # who run the checks (matching's quality page), with the pairs they disagreed on
        "agreement": s.steward_agreement() if user.has_perm(QUALITY) else None,
    }
    if snapshot is None:
        return board
    sources = s.source_rows(snapshot)
    board["sources"] = sources
    board["sources_chart"] = charts.hbar_chart(
        "sources",
        "Parties and source records per source system",
        [
            charts.Group(
                row.source.name,
                [
                    charts.Bar(
                        "Source records",
                        row.records,
                        css="s0",
                        url=f"{reverse('parties:list')}?source={row.source.pk}",
                    ),
                    charts.Bar(
                        "Parties",
                        row.parties,
                        css="s2",
                        url=f"{reverse('parties:list')}?source={row.source.pk}",
                    ),
                ],
            )
            for row in sources
        ],
    )
    attributes = s.attribute_rows(snapshot, [row.source for row in sources])
    board["attributes"] = attributes
    board["completeness_chart"] = charts.hbar_chart(
        "completeness",
        "Completeness and validity per attribute (active parties)",
        [
            charts.Group(
                row.label,
                [
                    charts.Bar(
                        "Has a value",
                        rate.complete_pct,
                        css="s2",
                        text=f"{rate.complete_pct:.1f}%",
                        title=f"{row.label}: {rate.complete:,} of {rate.population:,} have a value",
                    ),
                    charts.Bar(
                        "Valid",
                        rate.valid_pct,
                        css="s0",
                        url=rate.url,
                        text=f"{rate.valid_pct:.1f}%",
                        title=f"{row.label}: {rate.valid:,} of {rate.population:,} valid",
                    ),
                ],
            )
            for row in attributes
            for rate in [row.overall]
        ],
        max_value=100,
        percent=True,
    )
    issues = s.issue_rows(snapshot)
    board["issues"] = issues
    board["issues_chart"] = (
        charts.hbar_chart(
            "issues",
            "Data-quality issues by reason",
            [
                charts.Group(
                    f"{row.reason[:1].upper()}{row.reason[1:]} · {row.field}",
                    [charts.Bar("Issues", row.count, url=row.url, css="s4")],
                    url=row.url,
                )
                for row in issues
            ],
            label_above=True,
        )
        if issues
        else None
    )
    board["consent_chart"] = _consent_chart(snapshot, user)
    return board


@require_GET
@permission_required("parties.view_sourcerecord", raise_exception=True)
def quality_issues(request: HttpRequest) -> HttpResponse:
    """The data-quality issues behind one bar of the dashboard (a field and a kind of reason,
    optionally one source system), each with its record, party and import job."""
    field = parse_text(request.GET.get("field"), name="field", max_length=64)
    reason = parse_text(request.GET.get("reason"), name="reason", max_length=200)
    source_id = parse_id(request.GET.get("source"), name="source")
    issues = s.quality_issue_list(field=field, reason=reason, source=source_id)
    page = Paginator(issues, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/quality_issues.html",
        {
            "page": page,
            "field": field,
            "reason": reason,
            "source": source_id,
            "query": query.urlencode(),
        },
    )


@require_POST
@permission_required(REFRESH, raise_exception=True)
def refresh(request: HttpRequest) -> HttpResponseRedirect:
    """Enqueue a refresh of the aggregated figures now (the page says when they were computed)."""
    from c360.dashboard.services import dashboard_refresh_now

    if dashboard_refresh_now():
        messages.success(request, "The figures are being refreshed; reload the page in a minute.")
    else:
        messages.info(request, "A refresh of the figures is already on its way; reload the page in a minute.")
    return HttpResponseRedirect(reverse("home"))
