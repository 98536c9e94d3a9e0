"""The search box's results page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from c360.kernel.params import parse_text
from parties.search import party_find


@require_GET
@permission_required("parties.view_party", raise_exception=True)
def search(request: HttpRequest) -> HttpResponse:
    # a NUL: a 400; overlong text is searched by its beginning, and the page says so
    query = parse_text(request.GET.get("q"), name="q", max_length=None, strip=False)
    result = party_find(q=query, default_region=settings.C360_PHONE_REGION)
    return render(request, "parties/search.html", {"result": result, "search_query": result.query})
