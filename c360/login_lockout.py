"""What happens when django-axes locks a sign-in out (settings: ``C360_LOGIN_FAILURE_LIMIT``,
``C360_LOGIN_COOLOFF_MINUTES``): the page that says so, and a line in the log. The attempts
themselves are axes' records (Admin › Axes), which are the audit trail of sign-ins."""

from __future__ import annotations

import logging
from datetime import UTC

from axes.signals import user_locked_out
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger("c360.security")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None
                     ) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page's answer while the user or address is locked out."""
    minutes = settings.C360_LOGIN_COOLOFF_MINUTES
    started = getattr(request, "axes_attempt_time", None) or timezone.now()
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {"username": username[:150], "cooloff_minutes": minutes,
               "until": (started + settings.AXES_COOLOFF_TIME).astimezone(UTC)}
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    logger.warning("sign-in locked out for %d minutes: username %r, address %s, path %s",
                   settings.C360_LOGIN_COOLOFF_MINUTES, username, ip_address,
                   getattr(request, "path", "?"))
