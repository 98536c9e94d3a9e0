"""Ends a session that has been idle too long or is older than its lifetime (settings
``C360_SESSION_IDLE_MINUTES``, ``C360_SESSION_MAX_HOURS``), and keeps its row current."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout

from c360.accounts.services import (
    SEEN,
    SIGNED_OUT_RECORDED,
    STARTED,
    session_limit_reached,
    user_session_due,
    user_session_expire,
    user_session_touch,
)


class SessionLimitsMiddleware:
    """After ``AuthenticationMiddleware`` and ``MessageMiddleware``: the request goes on as
    anonymous when its session ends here, so the page's login requirement sends it to the
    sign-in page, which says why. No query unless a minute has passed since the row was last
    written (or the session ends)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and request.user.is_authenticated:
            now = time.time()
            end = session_limit_reached(started=session.get(STARTED), seen=session.get(SEEN), now=now)
            if end is not None:
                user_session_expire(request=request, end=end)
                messages.info(request, end.message)
            elif user_session_due(request=request, now=now) and not user_session_touch(request=request):
                # its row was deleted: it was ended elsewhere ("sign out everywhere"), recorded there
                setattr(request, SIGNED_OUT_RECORDED, True)
                logout(request)
                messages.info(request, "Your session was ended. Please sign in again.")
        return self.get_response(request)
