"""The party page's "Possible duplicates": the other parties most like this one, and on the
contact-point form the same check with the value about to be added (before saving). What
"most like" means is another app's business (``parties.extensions.duplicate_check``)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from c360.kernel.params import BadParameter, parse_text
from parties.extensions import duplicate_check
from parties.models import Party


@require_GET
@permission_required("parties.view_party", raise_exception=True)
def duplicates(request: HttpRequest, pk: int) -> HttpResponse:
    """A fragment (htmx): the possible duplicates of party ``pk``; with ``kind`` and
    ``value`` (the contact-point form's), as if that email or phone number were added."""
    party = Party.objects.filter(pk=pk).only("pk", "status", "display_name").first()
    if party is None:
        raise Http404(f"No party with id {pk}.")
    problem, emails, phones, value, region = "", [], [], "", ""
    try:
        value = parse_text(request.GET.get("value"), name="value", max_length=1000)
        region = parse_text(request.GET.get("region"), name="region", max_length=10)
    except BadParameter as exc:
        problem = str(exc)
    kind = request.GET.get("kind", "")
    if value and kind == "phone":
        phones = [value]
    elif value:
        emails = [value]
    hits = (
        None
        if problem
        else duplicate_check(
            user=request.user, party_id=party.pk, emails=emails, phones=phones, region=region
        )
    )
    return render(
        request,
        "parties/_duplicates.html",
        {"party": party, "hits": hits, "problem": problem, "value": value, "kind": kind if value else ""},
    )
