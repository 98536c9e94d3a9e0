"""What happens when django-axes locks a sign-in out (settings: ``C360_LOGIN_FAILURE_LIMIT``,
``C360_LOGIN_COOLOFF_MINUTES``): the page that says so, and a line in the log. The attempts
themselves are axes' records (Admin › Axes), which are the audit trail of sign-ins."""

from __future__ import annotations

import logging
from datetime import UTC

from axes.handlers.database import AxesDatabaseHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger("c360.security")

# What axes' records hold (a sign-in form accepts a longer username; PostgreSQL refuses NUL).
STORED_CHARS = 255


def _storable(value) -> str:
    return str(value).replace("\x00", "")[:STORED_CHARS]


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username tried (as axes reads it), cut to what its records
    hold: a 400-character username failed the sign-in with a database error on PostgreSQL."""
    value = (credentials or getattr(request, "data", request.POST)).get("username")
    return None if value is None else _storable(value)


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, with the client's user agent made storable too, and a limit of
    its own for one address: axes compares the larger of the two counts with one limit, so the
    address's failures are scaled to ``C360_LOGIN_ADDRESS_FAILURE_LIMIT``. Ten typos of one
    person then lock that username, not every colleague behind the office's address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_username, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )  # AXES_LOCKOUT_PARAMETERS' order
        limit, address_limit = settings.C360_LOGIN_FAILURE_LIMIT, settings.C360_LOGIN_ADDRESS_FAILURE_LIMIT
        return max(per_username, per_address * limit // address_limit)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and hasattr(request, "axes_user_agent"):
            request.axes_user_agent = _storable(request.axes_user_agent)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        if hasattr(request, "axes_user_agent"):
            request.axes_user_agent = _storable(request.axes_user_agent)
        return super().user_logged_in(sender, request, user, **kwargs)


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page's answer while the user or address is locked out."""
    minutes = settings.C360_LOGIN_COOLOFF_MINUTES
    started = getattr(request, "axes_attempt_time", None) or timezone.now()
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "username": username[:150],
        "cooloff_minutes": minutes,
        "until": (started + settings.AXES_COOLOFF_TIME).astimezone(UTC),
    }
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    logger.warning(
        "sign-in locked out for %d minutes: username %r, address %s, path %s",
        settings.C360_LOGIN_COOLOFF_MINUTES,
        username,
        ip_address,
        getattr(request, "path", "?"),
    )
