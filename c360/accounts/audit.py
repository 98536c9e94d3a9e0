"""The authentication audit: one function writes every entry (``auth_event_record``), so every
sign-in path, the second factor, the identity provider's role changes and API tokens are
recorded alike — who, when, from where."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from c360.accounts.models import AuthEvent, AuthEventKind
from c360.client_address import client_address

__all__ = ["AuthEventKind", "auth_event_record"]


def _clean(value: object, limit: int) -> str:
    return str(value or "").replace("\x00", "")[:limit]


def auth_event_record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    username: str = "",
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    method: str = "",
    detail: str = "",
) -> AuthEvent:
    """Append one entry. ``user`` is whom it is about (None for a failed sign-in of an unknown
    name: give ``username``); ``actor`` an administrator acting on them; ``request`` gives the
    client's address and user agent. Never pass a secret (password, code, token) in ``detail``."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    address, agent = "", ""
    if request is not None:
        address = _clean(client_address(request), 64)
        agent = _clean(request.META.get("HTTP_USER_AGENT", ""), 255)
    return AuthEvent.objects.create(
        kind=kind,
        at=timezone.now(),
        user=user,
        username=_clean(username or (user.get_username() if user is not None else ""), 150),
        actor=actor,
        actor_label=_clean(actor_label or (actor.get_username() if actor is not None else ""), 150),
        method=_clean(method, 16),
        client_address=address,
        user_agent=agent,
        detail=_clean(detail, 500),
    )
