"""Sessions of signed-in people (issue 20, item 4): registered at sign-in, kept current at most
once a minute, ended when idle for ``C360_SESSION_IDLE_MINUTES`` or older than
``C360_SESSION_MAX_HOURS``, and ended all at once ("sign out everywhere") by their user or by an
administrator. API tokens are not sessions: none of this touches them.

A session's own data holds when it started, when it was last seen and under which key its
``UserSession`` row is (the key changes at sign-in and when a password is changed), so the
timeouts cost no query; the row lets a user's sessions be found without decoding every session.
Ending a session deletes it from whichever store ``SESSION_ENGINE`` names, through its
``SessionStore``, and its row; a session whose row is gone is ended at its next request too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.db.models import Q
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils import timezone

from c360.accounts.audit import _clean, auth_event_record
from c360.accounts.models import AuthEventKind, UserSession
from c360.client_address import client_address

# Keys in the session's data.
STARTED = "_c360_started"  # epoch seconds of the sign-in
SEEN = "_c360_seen"  # epoch seconds of the last request counted (written at most once a minute)
ROW_KEY = "_c360_row"  # the session key the UserSession row is under
TOUCH_EVERY = timedelta(minutes=1)
# Set on a request whose sign-out is recorded otherwise (expired, ended everywhere): the
# user_logged_out receiver then records no SIGN_OUT.
SIGNED_OUT_RECORDED = "_c360_signed_out_recorded"


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def user_session_start(*, request: HttpRequest, user: Any, method: str) -> UserSession:
    """Register the session a sign-in just made (the key ``login`` rotated to)."""
    session = request.session
    if session.session_key is None:  # login() flushed another user's session: give it its key now
        session.save()
    key = str(session.session_key)
    now = timezone.now()
    # The user's rows of sessions past their limits (people close browsers without signing out):
    # those sessions end at their next request anyway (their own data says so), so the rows go.
    UserSession.objects.filter(user_id=user.pk).filter(
        Q(last_seen_at__lt=now - timedelta(minutes=settings.C360_SESSION_IDLE_MINUTES))
        | Q(started_at__lt=now - timedelta(hours=settings.C360_SESSION_MAX_HOURS))
    ).delete()
    row, _ = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "started_at": now,
            "last_seen_at": now,
            "method": _clean(method, 16),
            "client_address": _clean(client_address(request), 64),
            "user_agent": _clean(request.META.get("HTTP_USER_AGENT", ""), 255),
        },
    )
    session[STARTED] = session[SEEN] = now.timestamp()
    session[ROW_KEY] = key
    return row


def user_session_forget(*, request: HttpRequest) -> None:
    """The row of a session that is signing out."""
    session = getattr(request, "session", None)
    if session is None:
        return
    keys = {k for k in (session.session_key, session.get(ROW_KEY)) if k}
    if keys:
        UserSession.objects.filter(session_key__in=keys).delete()


@dataclass(frozen=True)
class SessionEnd:
    """Why a session ends now, in the words the sign-in page shows."""

    message: str
    detail: str


def session_limit_reached(*, started: float | None, seen: float | None, now: float) -> SessionEnd | None:
    """Whether a session that started at ``started`` and was last seen at ``seen`` (epoch seconds)
    is over its absolute lifetime or idle too long at ``now``."""
    hours, minutes = settings.C360_SESSION_MAX_HOURS, settings.C360_SESSION_IDLE_MINUTES
    if started is not None and now - started > hours * 3600:
        return SessionEnd(
            f"Your session ended after {hours} hour{'s' if hours != 1 else ''}, the longest a session "
            "lasts. Please sign in again.",
            f"older than {hours} hours",
        )
    if seen is not None and now - seen > minutes * 60:
        return SessionEnd(
            f"Your session ended after {minutes} minute{'s' if minutes != 1 else ''} without activity. "
            "Please sign in again.",
            f"idle for more than {minutes} minutes",
        )
    return None


def user_session_expire(*, request: HttpRequest, end: SessionEnd) -> None:
    """Sign the request's user out because the session is over its limits, recorded as such."""
    auth_event_record(AuthEventKind.SESSION_EXPIRED, request=request, user=request.user, detail=end.detail)
    setattr(request, SIGNED_OUT_RECORDED, True)
    logout(request)  # the user_logged_out receiver deletes the row


def user_session_touch(*, request: HttpRequest) -> bool:
    """Keep the session's row current (key, last seen); False when its row is gone, i.e. the
    session was ended elsewhere. A session signed in before rows were kept gets one now."""
    session = request.session
    key, row_key = str(session.session_key), session.get(ROW_KEY)
    now = timezone.now()
    if row_key is None:
        user_session_start(request=request, user=request.user, method="")
        return True
    if not UserSession.objects.filter(session_key=row_key, user_id=request.user.pk or 0).update(
        session_key=key, last_seen_at=now
    ):
        return False
    session[ROW_KEY] = key
    session[SEEN] = now.timestamp()
    return True


def user_session_rotate(*, request: HttpRequest) -> None:
    """A new key for the request's session, its data kept, and its row following at once (as
    ``login`` does at a sign-in): when the session's rights grow without a sign-in (the second
    factor given), a key someone learnt or planted before must not carry them. The CSRF token is
    renewed too."""
    session = request.session
    old = session.get(ROW_KEY) or session.session_key
    session.cycle_key()
    rotate_token(request)
    new = session.session_key
    if old and new and old != new:
        UserSession.objects.filter(session_key=old, user_id=request.user.pk or 0).update(session_key=new)
        session[ROW_KEY] = new


def user_session_due(*, request: HttpRequest, now: float) -> bool:
    """Whether this request should write the row: a minute has passed or the key changed."""
    session = request.session
    seen = session.get(SEEN)
    return (
        session.get(ROW_KEY) != session.session_key
        or seen is None
        or now - seen >= TOUCH_EVERY.total_seconds()
    )


def user_sessions_end(
    *, user: Any, actor: Any = None, request: HttpRequest | None = None, keep_session_key: str | None = None
) -> int:
    """End every session of ``user`` (but ``keep_session_key``'s): delete each from the session
    store and its row; record it (``actor``: an administrator acting on someone else). Returns how
    many ended. Other users' sessions and API tokens are untouched."""
    keys = list(
        UserSession.objects.filter(user_id=user.pk)
        .exclude(session_key=keep_session_key or "")
        .values_list("session_key", flat=True)
    )
    for key in keys:
        _store(key).delete()
    UserSession.objects.filter(user_id=user.pk, session_key__in=keys).delete()
    by_other = actor is not None and actor.pk != user.pk
    auth_event_record(
        AuthEventKind.SESSIONS_ENDED,
        request=request,
        user=user,
        actor=actor if by_other else None,
        method="admin" if by_other else "",
        detail=f"{len(keys)} session{'s' if len(keys) != 1 else ''} ended"
        + (", this one kept" if keep_session_key else ""),
    )
    return len(keys)


def user_sessions_live(*, user: Any) -> list[UserSession]:
    """The user's sessions that are still usable, newest first. Rows of sessions gone from the
    store or past their limits (their people never came back) are deleted on the way."""
    now = timezone.now()
    live, dead = [], []
    for row in UserSession.objects.filter(user_id=user.pk).order_by("-last_seen_at"):
        over = session_limit_reached(
            started=row.started_at.timestamp(), seen=row.last_seen_at.timestamp(), now=now.timestamp()
        )
        if over is not None or not _store(row.session_key).exists(row.session_key):
            dead.append(row.session_key)
        else:
            live.append(row)
    if dead:
        for key in dead:
            _store(key).delete()
        UserSession.objects.filter(session_key__in=dead).delete()
    return live
