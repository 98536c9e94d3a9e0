"""Splitting a suggestion into groups from the review page. Thin: parse, call the service,
redirect (the same service serves the API's ``split`` action)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from c360.kernel.params import BadParameter, parse_id
from c360.kernel.text import sentence
from matching.models import MatchSuggestion
from matching.selectors_queue import queue_neighbours
from matching.services.decisions import SuggestionClosed
from matching.services.review import SuggestionStale
from matching.services.split import GROUP_NAMES, SplitRefused, group_name, suggestion_split
from matching.views.queue import _filters, _queue, _review_url
from parties.services.merge import MergeRefused


def split_form_groups(data: QueryDict) -> list[list[int]]:
    """``group_<party id>=<letter>`` fields as groups of party ids, in letter order. Raises
    ``BadParameter`` naming the field for an id or a letter that is not one."""
    groups: dict[str, list[int]] = {}
    for key, values in data.lists():
        if not key.startswith("group_"):
            continue
        party = parse_id(key[6:], name=key, required=True)
        if len(values) != 1:  # one party in two groups: not the last one silently
            raise BadParameter(key, f"sent {len(values)} times; choose one group for the party")
        value = values[0]
        letter = value.strip().upper()
        if len(letter) != 1 or letter not in GROUP_NAMES:
            raise BadParameter(key, f"{value[:20]!r} is not a group letter (A, B, C …)")
        groups.setdefault(letter, []).append(party)
    return [groups[letter] for letter in sorted(groups)]


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def review_split(request: HttpRequest, pk: int) -> HttpResponse:
    filters = _filters(request.POST)
    here = _review_url(pk, filters)
    _, following = queue_neighbours(_queue(request, request.POST).qs, pk)
    try:
        groups = split_form_groups(request.POST)
        if any(len(group) > 1 for group in groups) and not request.user.has_perm("parties.merge_party"):
            messages.error(request, "Your role may not merge parties, so it may not split into groups.")
            return redirect(here)
        result = suggestion_split(suggestion_id=pk, groups=groups, user=request.user)
    except SuggestionStale as exc:
        messages.warning(request, sentence(exc))
        return redirect(here)
    except (SplitRefused, SuggestionClosed, MergeRefused, BadParameter) as exc:
        messages.error(request, f"Not split — {exc}")
        return redirect(here)
    except MatchSuggestion.DoesNotExist:
        messages.error(request, f"There is no suggestion #{pk}.")
        return redirect(reverse("matching:suggestions"))
    parts = [f"group {group_name(i)} is party {survivor}" for i, survivor in enumerate(result.survivors)]
    messages.success(
        request,
        f"Suggestion #{pk} split into {len(result.survivors)} groups: "
        f"{len(result.merges)} merged ({'; '.join(parts)}), "
        f"{result.rejected_pairs} pair{'s' if result.rejected_pairs != 1 else ''} "
        "across groups recorded as not a match.",
    )
    if following is None:
        messages.info(request, "That was the last suggestion in this queue.")
        return redirect(reverse("matching:suggestions") + (f"?{filters}" if filters else ""))
    return redirect(_review_url(following, filters))
