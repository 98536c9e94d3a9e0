"""Receivers that write the authentication audit from Django's and axes' signals: every sign-in
path (the sign-in page, the admin's, OpenID Connect, a test's force_login) goes through
``django.contrib.auth.login``/``authenticate``/``logout``, so these catch them all. The session
of a sign-in is registered here too (``c360.accounts.services.user_session_start``)."""

from __future__ import annotations

from datetime import timedelta

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from c360.accounts.audit import auth_event_record
from c360.accounts.models import AuthEvent, AuthEventKind
from c360.accounts.services import SIGNED_OUT_RECORDED, user_session_forget, user_session_start
from c360.client_address import client_address

USERNAME_MAX = 150


def _method(user, request) -> str:
    backend = getattr(user, "backend", None) or ""
    if not backend and request is not None and hasattr(request, "session"):
        backend = request.session.get(BACKEND_SESSION_KEY, "")
    return "oidc" if "oidc" in backend.lower() else "password"


def _known_user(username: str):
    """The account a tried username names, if any (so a user's failed sign-ins are theirs)."""
    if not username or len(username) > USERNAME_MAX or "\x00" in username:
        return None
    return get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()


@receiver(user_logged_in, dispatch_uid="c360.accounts.sign_in")
def sign_in_recorded(sender, request=None, user=None, **kwargs) -> None:
    method = _method(user, request)
    detail = ""
    if request is not None and getattr(request, "path", "") == reverse("admin:login"):
        detail = "the admin's sign-in page"
    auth_event_record(AuthEventKind.SIGN_IN, request=request, user=user, method=method, detail=detail)
    if request is not None and hasattr(request, "session"):
        user_session_start(request=request, user=user, method=method)


@receiver(user_login_failed, dispatch_uid="c360.accounts.sign_in_failed")
def sign_in_failure_recorded(sender, credentials=None, request=None, **kwargs) -> None:
    # credentials come cleansed by Django (a password is "********"); only the username is kept
    credentials = credentials or {}
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")
    detail = "refused: locked out" if getattr(request, "axes_locked_out", False) else ""
    method = "password" if "password" in credentials else ""
    if "nonce" in credentials:  # the company sign-in's step (c360.accounts.oidc): its reason
        method = "oidc"
        detail = detail or str(getattr(request, "oidc_refusal", "") or "")
    auth_event_record(
        AuthEventKind.SIGN_IN_FAILED,
        request=request,
        user=_known_user(username),
        username=username.replace("\x00", "")[:USERNAME_MAX],
        method=method,
        detail=detail,
    )


@receiver(user_logged_out, dispatch_uid="c360.accounts.sign_out")
def sign_out_recorded(sender, request=None, user=None, **kwargs) -> None:
    if request is None:
        return
    if user is not None and not getattr(request, SIGNED_OUT_RECORDED, False):
        auth_event_record(AuthEventKind.SIGN_OUT, request=request, user=user)
    user_session_forget(request=request)


@receiver(user_locked_out, dispatch_uid="c360.accounts.locked_out")
def lockout_recorded(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """One entry when a lockout begins: axes signals every refused try while it lasts (each
    restarts the pause), so a username and address already recorded as locked out within the
    cool-off are not recorded again (their refused tries are SIGN_IN_FAILED entries)."""
    username = str(username or "").replace("\x00", "")[:USERNAME_MAX]
    address = (client_address(request) if request is not None else ip_address) or ""
    since = timezone.now() - timedelta(minutes=settings.C360_LOGIN_COOLOFF_MINUTES)
    if AuthEvent.objects.filter(
        kind=AuthEventKind.LOCKED_OUT, username=username, client_address=address[:64], at__gte=since
    ).exists():
        return
    failures = getattr(request, "axes_failures_since_start", None)
    auth_event_record(
        AuthEventKind.LOCKED_OUT,
        request=request,
        user=_known_user(username),
        username=username,
        detail=f"signing in paused for {settings.C360_LOGIN_COOLOFF_MINUTES} minutes"
        + (f" after {failures} failures" if failures else ""),
    )
