"""A steward's "Not a match" from the queue list (the review page decides through review_decide)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from c360.kernel.params import BadParameter, parse_id
from c360.kernel.text import sentence
from matching.models import MatchSuggestion
from matching.services.decisions import SuggestionClosed, suggestion_reject


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def suggestion_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    page = parse_id(request.POST.get("page"), name="page")  # from the queue's own form: else a 400
    try:
        party = parse_id(request.POST.get("party"), name="party")
        suggestion_reject(suggestion_id=pk, user=request.user, party_id=party)
    except MatchSuggestion.DoesNotExist:
        messages.error(request, f"There is no suggestion #{pk}.")
    except (SuggestionClosed, ValueError, BadParameter) as exc:
        messages.error(request, sentence(exc))
    else:
        messages.success(
            request,
            f"Suggestion #{pk}: recorded as not a match"
            + (f" for party {party}" if party else "")
            + "; the matcher will not suggest it again unless the data changes.",
        )
    return redirect(reverse("matching:suggestions") + (f"?page={page}" if page else ""))
