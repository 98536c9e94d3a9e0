"""The search box's results page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from parties.search import party_find


@require_GET
@permission_required("parties.view_party", raise_exception=True)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    result = party_find(q=query, default_region=settings.C360_PHONE_REGION)
    return render(request, "parties/search.html", {"result": result, "search_query": result.query})
