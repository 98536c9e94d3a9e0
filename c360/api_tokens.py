"""API tokens: create, revoke, authenticate. A token is ``c360_`` followed by 43 random
URL-safe characters; the database keeps its SHA-256 (tokens are long random strings, so a
plain hash is enough: there is nothing to guess)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from c360.accounts.audit import AuthEventKind, auth_event_record
from c360.kernel.roles import ROLE_NAMES
from c360.models import ApiToken

PREFIX = "c360_"
LAST_USED_EVERY = timedelta(minutes=1)  # how often "last used" is written (not on every request)
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, name: str, role: str, created_by=None, request=None, actor_label: str = ""
) -> tuple[ApiToken, str]:
    """A new token for the client ``name`` acting with ``role``: returns the row and the token,
    which is not stored and cannot be shown again. Recorded in the authentication audit (who,
    from where: ``request``, or ``actor_label`` such as the command's name), never the token."""
    errors = {}
    if not NAME.match(name or ""):
        errors["name"] = (
            f"{name!r} is not a client name: 3–60 lower-case letters, digits and dashes, e.g. crm-sync"
        )
    elif ApiToken.objects.filter(name=name).exists():
        errors["name"] = f"a token named {name!r} exists already (revoke it, or choose another name)"
    if role not in ROLE_NAMES:
        errors["role"] = f"{role!r} is not a role (one of: {', '.join(ROLE_NAMES)})"
    if errors:
        raise ValidationError(errors)
    User = get_user_model()
    username = f"api:{name}"
    user = User.objects.filter(username=username).first() or User(username=username)
    user.first_name, user.is_active, user.is_staff, user.is_superuser = name, True, False, False
    user.set_unusable_password()  # the client signs in with its token only
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, user=user, role=role, key_prefix=key[:12], key_hash=token_hash(key), created_by=created_by
    )
    auth_event_record(
        AuthEventKind.TOKEN_CREATED,
        request=request,
        user=user,
        actor=created_by,
        actor_label=actor_label,
        method="token",
        detail=f"API token of {name}, role {role}",
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, name: str, revoked_by=None, request=None, actor_label: str = "") -> ApiToken:
    """Refuse the token of ``name`` from now on; recorded in the authentication audit."""
    token = ApiToken.objects.select_for_update().filter(name=name).first()
    if token is None:
        raise ValidationError({"name": f"there is no token named {name!r}"})
    if token.revoked_at:
        raise ValidationError(
            {"name": f"the token {name!r} was revoked already on {token.revoked_at:%Y-%m-%d}"}
        )
    token.revoked_at, token.revoked_by = timezone.now(), revoked_by
    token.save(update_fields=["revoked_at", "revoked_by"])
    type(token.user).objects.filter(pk=token.user_id).update(is_active=False)
    auth_event_record(
        AuthEventKind.TOKEN_REVOKED,
        request=request,
        user=token.user,
        actor=revoked_by,
        actor_label=actor_label,
        method="token",
        detail=f"API token of {name}, role {token.role}",
    )
    return token


# A token's role is fixed when it is created, so its permissions are read once a minute per
# process instead of with two queries on every request. Revocation still takes effect at once:
# the token row is read on every request.
PERMISSIONS_FOR = timedelta(minutes=1)
_permissions: dict[str, tuple[set[str], datetime]] = {}


def _with_permissions(token: ApiToken, now: datetime):
    user = token.user
    cached = _permissions.get(token.key_hash)
    if cached is None or cached[1] < now:
        from django.contrib.auth.backends import ModelBackend

        cached = (ModelBackend().get_all_permissions(user), now + PERMISSIONS_FOR)
        _permissions[token.key_hash] = cached
    user._perm_cache = cached[0]  # what ModelBackend.get_all_permissions looks for first
    return user


def api_token_user(key: str):
    """The user a token acts as, or a reason it does not (as ``ValueError``)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key.strip())).first()
    if token is None:
        raise ValueError("Invalid token.")
    if token.revoked_at:
        raise ValueError(f"This token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return _with_permissions(token, now)
