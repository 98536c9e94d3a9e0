"""Suggestions as a list (the full merge queue comes with the merge issue) and the
steward's "Not a match"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from matching.models import MatchRun, MatchSettings, MatchSuggestion, RunStatus
from matching.selectors import suggestions_pending
from matching.services.decisions import SuggestionClosed, suggestion_reject


@require_GET
@permission_required("matching.view_matchsuggestion", raise_exception=True)
def suggestion_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(suggestions_pending(), 50).get_page(request.GET.get("page"))
    run = MatchRun.objects.first()
    template = "matching/_run_status.html" if request.htmx else "matching/suggestions.html"
    response = render(request, template, {"page": page, "run": run,
                                          "settings": MatchSettings.current()})
    if request.htmx and run and run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        response["HX-Refresh"] = "true"  # the run finished: show its suggestions
    return response


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def suggestion_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    party = request.POST.get("party") or None
    try:
        suggestion_reject(suggestion_id=pk, user=request.user,
                          party_id=int(party) if party else None)
    except MatchSuggestion.DoesNotExist:
        messages.error(request, f"There is no suggestion #{pk}.")
    except (SuggestionClosed, ValueError) as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, f"Suggestion #{pk}: recorded as not a match"
                         + (f" for party {party}" if party else "")
                         + "; the matcher will not suggest it again unless the data changes.")
    page = request.POST.get("page", "")
    return redirect(reverse("matching:suggestions") + (f"?page={int(page)}" if page.isdigit() else ""))
