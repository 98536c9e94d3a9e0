"""The steward merge queue and the review page. Thin: parse, call a service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from c360.kernel.params import BadParameter, parse_id, parse_ids, parse_text
from c360.kernel.text import sentence
from matching.filters import SuggestionFilter
from matching.models import MatchRun, MatchSettings, MatchSuggestion, RunStatus, SuggestionStatus
from matching.selectors_queue import QueuePaginator, queue_base, queue_counts, queue_neighbours, review_sheet
from matching.services.bulk import bulk_merge_job_create, bulk_merge_scope
from matching.services.decisions import SuggestionClosed, suggestion_reject
from matching.services.review import (
    SuggestionStale,
    bulk_merge_preview,
    suggestion_claim_on_open,
    suggestion_merge,
    suggestion_reasons,
    suggestions_claim,
    suggestions_release,
)
from parties.services.merge import MergeRefused

FILTERED_COUNT_CAP = 5000
FILTER_KEYS = (
    "q",
    "order",
    "score_min",
    "score_max",
    "source",
    "kind",
    "country",
    "created_after",
    "created_before",
    "assigned",
)


def _filters(data: QueryDict) -> str:
    """The queue's filter query string, carried from the queue to the review pages and back."""
    return urlencode([(k, v) for k in FILTER_KEYS for v in data.getlist(k) if v])


def _queue(request: HttpRequest, data: QueryDict) -> SuggestionFilter:
    return SuggestionFilter(data, queryset=queue_base(), request=request)


@require_GET
@permission_required("matching.view_matchsuggestion", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    filterset = _queue(request, request.GET)
    run = MatchRun.objects.first()
    if request.htmx:  # the run-status strip polls while a run is going
        response = render(request, "matching/_run_status.html", {"run": run})
        if run and run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            response["HX-Refresh"] = "true"
        return response
    unfiltered = not any(request.GET.get(k) for k in FILTER_KEYS if k != "order")
    page = QueuePaginator(filterset.qs, 50, count_cap=None if unfiltered else FILTERED_COUNT_CAP).get_page(
        request.GET.get("page")
    )
    counts = queue_counts(user=request.user, pending=page.paginator.count if unfiltered else None)
    return render(
        request,
        "matching/queue.html",
        {
            "filter": filterset,
            "page": page,
            "counts": counts,
            "run": run,
            "settings": MatchSettings.current(),
            "filters": _filters(request.GET),
        },
    )


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def queue_claim(request: HttpRequest) -> HttpResponse:
    filterset = _queue(request, request.POST)
    if not filterset.is_valid():
        messages.error(request, "The filters are not valid; nothing was claimed.")
    else:
        claimed = suggestions_claim(user=request.user, queryset=filterset.qs, count=20)
        messages.success(
            request,
            f"You claimed {claimed} suggestion{'s' if claimed != 1 else ''} for "
            "30 minutes; other stewards will not see them as unclaimed.",
        )
    return redirect(reverse("matching:suggestions") + "?" + _filters(request.POST))


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def queue_release(request: HttpRequest) -> HttpResponse:
    released = suggestions_release(user=request.user)
    messages.success(request, f"Released {released} claimed suggestion{'s' if released != 1 else ''}.")
    return redirect(reverse("matching:suggestions") + "?" + _filters(request.POST))


@require_POST
@permission_required("parties.merge_party", raise_exception=True)
def queue_bulk_merge(request: HttpRequest) -> HttpResponse:
    """Step one shows how many parties will merge; step two (``confirm``) merges."""
    back = reverse("matching:suggestions") + "?" + _filters(request.POST)
    try:
        if request.POST.get("scope") == "above":
            try:
                floor = float(request.POST.get("score_at_least", ""))
            except ValueError:
                messages.error(request, "Score: enter a number between 0 and 1, e.g. 0.95.")
                return redirect(back)
            chosen = bulk_merge_scope(score_at_least=floor)
        else:
            chosen = bulk_merge_scope(
                suggestion_ids=parse_ids(request.POST.getlist("selected"), name="selected")
            )
    except BadParameter as exc:
        messages.error(request, f"Nothing merged — {exc}")
        return redirect(back)
    except ValidationError as exc:  # the score floor, named by the service
        messages.error(request, f"Score: {' '.join(exc.messages)}.")
        return redirect(back)
    ids, scope = chosen.suggestion_ids, chosen.text
    if not ids:
        messages.error(request, "Nothing to merge: tick suggestions first, or choose a score.")
        return redirect(back)
    suggestions, parties = bulk_merge_preview(ids)
    # "every suggestion above a score" is counted again now: if a run changed it since the
    # confirmation was shown, the steward confirms the new numbers instead of merging unseen ones
    changed = (
        request.POST.get("confirm") == "yes"
        and request.POST.get("scope") == "above"
        and request.POST.get("shown") != chosen.fingerprint
    )
    if request.POST.get("confirm") != "yes" or changed:
        return render(
            request,
            "matching/bulk_confirm.html",
            {
                "ids": ids,
                "suggestions": suggestions,
                "parties": parties,
                "scope": scope,
                "post": request.POST,
                "back": back,
                "shown": chosen.fingerprint,
                "changed": changed,
            },
        )
    # every bulk merge runs on a worker; its page shows the progress live (as imports do)
    job = bulk_merge_job_create(suggestion_ids=ids, user=request.user, scope=scope)
    return redirect("matching:bulk_job", pk=job.pk)


def _review_url(pk: int, filters: str) -> str:
    return reverse("matching:review", args=[pk]) + (f"?{filters}" if filters else "")


def _chosen(data: QueryDict) -> dict[str, str]:
    """The values the steward picked per attribute (BadParameter for a NUL or overlong value)."""
    return {
        key[6:]: parse_text(value, name=key, max_length=300, strip=False)
        for key, value in data.items()
        if key.startswith("value_") and value
    }


def _members(data: QueryDict) -> tuple[list[int], int | None]:
    """The ticked members and the chosen survivor of a review form (BadParameter if not ids)."""
    return parse_ids(data.getlist("members"), name="members"), parse_id(data.get("survivor"), name="survivor")


@require_GET
@permission_required("matching.view_matchsuggestion", raise_exception=True)
def review(request: HttpRequest, pk: int) -> HttpResponse:
    if request.user.has_perm("matching.change_matchsuggestion"):
        suggestion_claim_on_open(suggestion_id=pk, user=request.user)
    suggestion = MatchSuggestion.objects.select_related("claimed_by", "decided_by").filter(pk=pk).first()
    if suggestion is None:
        raise Http404(f"There is no suggestion #{pk}.")
    filters = _filters(request.GET)
    previous, following = queue_neighbours(_queue(request, request.GET).qs, pk)
    sheet = review_sheet(suggestion)
    return render(
        request,
        "matching/review.html",
        {
            "s": suggestion,
            "sheet": sheet,
            "filters": filters,
            "reasons": suggestion_reasons(suggestion, sheet.parties),
            "previous": previous,
            "next": following,
            "pending": suggestion.status == SuggestionStatus.PENDING,
            "claimed_by_other": suggestion.claimed_by_id and suggestion.claimed_by_id != request.user.pk,
        },
    )


@require_POST
@permission_required("matching.view_matchsuggestion", raise_exception=True)
def review_preview(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = MatchSuggestion.objects.filter(pk=pk).first()
    if suggestion is None:
        raise Http404(f"There is no suggestion #{pk}.")
    members, survivor = _members(request.POST)  # not ids, or a NUL in a value: a 400 naming the field
    sheet = review_sheet(suggestion, merging=members, survivor_id=survivor, chosen=_chosen(request.POST))
    return render(request, "matching/_preview.html", {"sheet": sheet, "s": suggestion})


@require_http_methods(["POST"])
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    action = request.POST.get("action", "")
    filters = _filters(request.POST)
    here = _review_url(pk, filters)
    queue_qs = _queue(request, request.POST).qs
    _, following = queue_neighbours(queue_qs, pk)
    if action == "merge":
        if not request.user.has_perm("parties.merge_party"):
            messages.error(request, "Your role may not merge parties.")
            return redirect(here)
        try:
            members, survivor = _members(request.POST)
            result = suggestion_merge(
                suggestion_id=pk,
                user=request.user,
                party_ids=members,
                survivor_id=survivor,
                chosen_values=_chosen(request.POST),
            )
        except SuggestionStale as exc:
            messages.warning(request, sentence(exc))
            return redirect(here)
        except (MergeRefused, MatchSuggestion.DoesNotExist, BadParameter) as exc:
            messages.error(request, sentence(exc))
            return redirect(here)
        messages.success(
            request,
            f"Suggestion #{pk}: merged {len(result.merged_ids) + 1} parties into party {result.survivor_id}.",
        )
        if result.suggestion.status == SuggestionStatus.PENDING:
            return redirect(here)  # unticked members remain: review them with the survivor
    elif action in ("reject", "reject_member"):
        try:
            member = parse_id(request.POST.get("party"), name="party", required=action == "reject_member")
            one = member if action == "reject_member" else None
            suggestion_reject(suggestion_id=pk, user=request.user, party_id=one)
        except (SuggestionClosed, ValueError, MatchSuggestion.DoesNotExist, BadParameter) as exc:
            messages.error(request, sentence(exc))
            return redirect(here)
        messages.success(
            request,
            f"Suggestion #{pk}: recorded as not a match"
            + (f" for party {member}" if action == "reject_member" else "")
            + ".",
        )
        if (
            action == "reject_member"
            and MatchSuggestion.objects.filter(pk=pk, status=SuggestionStatus.PENDING).exists()
        ):
            return redirect(here)
    elif action != "skip":
        messages.error(request, f"Unknown action {action!r}: use merge, reject or skip.")
        return redirect(here)
    if following is None:
        messages.info(request, "That was the last suggestion in this queue.")
        return redirect(reverse("matching:suggestions") + (f"?{filters}" if filters else ""))
    return redirect(_review_url(following, filters))
