"""Site-wide pages: home (what needs attention; the data-quality dashboard for stewards and
administrators), health check, error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from c360.dashboard.views import home_context


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", home_context(request))


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_not_required
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request that cannot be answered as sent: a parameter the page cannot use says which
    one and why (c360.kernel.params)."""
    from django.core.exceptions import BadRequest

    problem = str(exception) if isinstance(exception, BadRequest) else ""
    return render(request, "errors/400.html", {"problem": problem}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
