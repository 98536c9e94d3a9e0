"""Pages of sign-in and sessions: the authentication audit (administrators), one's own
security page (sessions, "sign out everywhere") and an administrator's view of a user's
sessions. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from c360.accounts.filters import AuthEventFilter
from c360.accounts.models import AuthEvent
from c360.accounts.otp import otp_device, otp_required_for
from c360.accounts.services import SIGNED_OUT_RECORDED, user_sessions_end, user_sessions_live
from c360.kernel.roles import ADMINISTRATOR, user_role_names
from c360.users import user_change_refusal
from parties.services.csv_export import csv_stream

PAGE_SIZE = 50
CSV_HEADER = [
    "at (UTC)",
    "event",
    "username",
    "user id",
    "by",
    "method",
    "client address",
    "user agent",
    "detail",
]


def _csv_rows(queryset):
    for e in queryset.iterator(chunk_size=2000):
        yield [
            e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.get_kind_display(),
            e.username,
            e.user_id or "",
            e.actor_label,
            e.method,
            e.client_address,
            e.user_agent,
            e.detail,
        ]


@require_GET
@permission_required("accounts.view_auth_audit", raise_exception=True)
def auth_audit(request: HttpRequest) -> HttpResponse:
    """Who signed in, failed, was locked out, signed out, and what happened to second factors,
    roles, sessions and API tokens; newest first, filtered, or as CSV (``?format=csv``)."""
    data = request.GET.copy()
    csv_wanted = data.pop("format", [""])[-1] == "csv"
    page_number = data.pop("page", [None])[-1]
    filterset = AuthEventFilter(data or None, queryset=AuthEvent.objects.order_by("-at", "-id"))
    context = {"filter": filterset, "query": urlencode(list(data.lists()), doseq=True)}
    if filterset.is_bound and not filterset.is_valid():
        context["problem"] = " ".join(
            f"{filterset.form.fields[name].label or name if name in filterset.form.fields else name}: "
            f"{' '.join(errors)}"
            for name, errors in filterset.errors.items()
        )
        return render(request, "accounts/audit.html", context, status=400)
    if csv_wanted:
        response = StreamingHttpResponse(
            csv_stream(CSV_HEADER, _csv_rows(filterset.qs)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="sign-in-audit-{stamp}.csv"'
        return response
    context["page"] = Paginator(filterset.qs, PAGE_SIZE).get_page(page_number)
    context["can_see_sessions"] = request.user.has_perm("accounts.view_usersession")
    return render(request, "accounts/audit.html", context)


@require_GET
def security(request: HttpRequest) -> HttpResponse:
    """One's own sessions (started, last seen, from where, how) and recent sign-in events."""
    return render(
        request,
        "accounts/security.html",
        {
            "sessions": user_sessions_live(user=request.user),
            "current_key": request.session.session_key,
            "events": AuthEvent.objects.filter(user_id=request.user.pk).order_by("-at", "-id")[:10],
            "settings_idle": settings.C360_SESSION_IDLE_MINUTES,
            "settings_hours": settings.C360_SESSION_MAX_HOURS,
            "second_factor_on": otp_device(request.user) is not None,
            "second_factor_required": otp_required_for(request.user),
            "is_administrator": ADMINISTRATOR in user_role_names(request.user),
        },
    )


@require_POST
def security_sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere (``scope=all``, this session too) or of the other sessions only."""
    scope = request.POST.get("scope")
    if scope == "others":
        n = user_sessions_end(
            user=request.user,
            actor=request.user,
            request=request,
            keep_session_key=request.session.session_key,
        )
        messages.success(request, f"Signed out of {n} other session{'s' if n != 1 else ''}.")
        return redirect("accounts:security")
    if scope != "all":
        messages.error(request, "Choose which sessions to end: the other ones, or all.")
        return redirect("accounts:security")
    user_sessions_end(user=request.user, actor=request.user, request=request)
    setattr(request, SIGNED_OUT_RECORDED, True)
    logout(request)
    messages.success(request, "You are signed out everywhere, here too.")
    return redirect("login")


@require_http_methods(["GET", "POST"])
@permission_required("accounts.view_usersession", raise_exception=True)
def user_sessions(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator's view of a user's sessions, and "sign out everywhere" for them."""
    user = get_object_or_404(get_user_model(), pk=pk)
    refusal = user_change_refusal(actor=request.user, user=user)
    can_end = request.user.has_perm("accounts.delete_usersession") and refusal is None
    if request.method == "POST":
        if not can_end:
            raise PermissionDenied(refusal or "Your role may not end other people's sessions.")
        n = user_sessions_end(user=user, actor=request.user, request=request)
        messages.success(
            request, f"{user.get_username()} is signed out everywhere ({n} session{'s' if n != 1 else ''})."
        )
        return redirect("accounts:user_sessions", pk=user.pk)
    return render(
        request,
        "accounts/user_sessions.html",
        {
            "subject": user,
            "sessions": user_sessions_live(user=user),
            "can_end": can_end,
            "refusal": refusal,
            "events": AuthEvent.objects.filter(user_id=user.pk).order_by("-at", "-id")[:20],
        },
    )
