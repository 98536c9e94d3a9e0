"""Company sign-in through OpenID Connect (settings ``C360_OIDC_*``).

mozilla-django-oidc runs the authorization-code flow (state, nonce, PKCE) and the token exchange;
this module adds what a company needs of it: the provider's endpoints from its discovery document,
ID tokens checked for issuer, audience and expiry as well as signature and nonce, users found by
the provider's subject (``OidcIdentity``) and created or updated at each sign-in, and the three
roles following the provider's groups (``C360_OIDC_ROLE_MAP``) — granted, and taken away when the
provider no longer grants them. Every role change and every user created is in the
authentication audit, by "identity provider"."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from c360.accounts.audit import AuthEventKind, auth_event_record
from c360.accounts.models import OidcIdentity
from c360.kernel.roles import ROLE_NAMES

logger = logging.getLogger("c360.security")

METHOD = "oidc"
ACTOR = "identity provider"
DISCOVERY_SECONDS = 3600
# Clocks of the provider and of this server may differ this much (exp, iat).
LEEWAY_SECONDS = 60

_discovery: dict[str, tuple[float, dict]] = {}
_discovery_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The identity provider's discovery document cannot be read or does not fit."""


class SignInRefused(Exception):
    """The provider vouched for the person, but they may not sign in here; the message says why."""


def oidc_enabled() -> bool:
    return bool(settings.C360_OIDC_ISSUER)


def provider_metadata() -> dict:
    """The provider's discovery document, read at the first need and kept for an hour."""
    issuer = settings.C360_OIDC_ISSUER
    with _discovery_lock:
        cached = _discovery.get(issuer)
        if cached is not None and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
            return cached[1]
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(f"{url} names another issuer than C360_OIDC_ISSUER={issuer!r}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(key):
            raise ProviderUnavailable(f"{url} has no {key}")
    with _discovery_lock:
        _discovery[issuer] = (time.monotonic(), metadata)
    return metadata


def provider_metadata_forget() -> None:
    """Read the discovery document again at the next need (tests; a changed provider)."""
    with _discovery_lock:
        _discovery.clear()


def end_session_url(request: HttpRequest, id_token: str) -> str | None:
    """Where to send the browser so that the provider ends its session too, and sends it back to
    the sign-in page; None when the provider does not offer it (RP-initiated logout)."""
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except ProviderUnavailable as exc:
        logger.warning("company sign-out: signed out here only, the provider is unavailable: %s", exc)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
            "client_id": settings.C360_OIDC_CLIENT_ID,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def roles_granted(claims: dict) -> dict[str, list[str]]:
    """{role: [the provider's groups that grant it]} from the groups claim and the role map. The
    claim is a list of names (or one name); anything else grants nothing: iterating an object
    would read its keys as groups (``{"c360-admins": false}`` made an administrator), and a
    list or object inside the list is no group's name."""
    groups = claims.get(settings.C360_OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return {}
    granted: dict[str, list[str]] = {}
    for group in groups:
        if isinstance(group, dict | list | bool) or group is None:
            continue
        for role in settings.C360_OIDC_ROLE_MAP.get(str(group), []):
            granted.setdefault(role, []).append(str(group))
    return granted


_FIELD_LENGTHS = {"first_name": 150, "last_name": 150, "email": 254}  # django.contrib.auth's User


def refusal_set(request: HttpRequest, text: str) -> None:
    """Why company sign-in refused this request: the callback's page says it."""
    request.oidc_refusal = text  # type: ignore[attr-defined]


def _claim_text(claims: dict, name: str, limit: int) -> str:
    """A claim as text for a column of ``limit`` characters: no NUL (PostgreSQL refuses one in
    text: a 500 at every sign-in of whoever has one in a name at the provider), cut to fit."""
    return str(claims.get(name) or "").replace("\x00", "").strip()[:limit]


def _username(claims: dict) -> str:
    return _claim_text(claims, "preferred_username", 150) or _claim_text(claims, "email", 150)


def oidc_user_sign_in(*, issuer: str, claims: dict, request: HttpRequest | None = None):
    """The user the provider's verified ``claims`` name, created at their first sign-in and
    updated at each (names, email), with exactly the roles the provider's groups grant now (the
    three role groups only; superuser and staff are never the provider's to give). Raises
    SignInRefused when they may not sign in: no role granted (their roles are taken away all the
    same: that change is committed), an account switched off here, or a local account holding
    their username."""
    user, refusal = _oidc_user_sync(issuer=issuer, claims=claims, request=request)
    if refusal:
        raise SignInRefused(refusal)
    return user


@transaction.atomic
def _oidc_user_sync(*, issuer: str, claims: dict, request: HttpRequest | None):
    user_model = get_user_model()
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SuspiciousOperation("the ID token has no sub")
    if len(subject) > 255 or "\x00" in subject:  # OpenID Connect: at most 255 ASCII characters
        raise SuspiciousOperation("the ID token's sub is longer than 255 characters or holds a NUL")
    now = timezone.now()
    granted = roles_granted(claims)
    identity = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is None:
        username = _username(claims)
        if not granted:
            raise SignInRefused(_no_role_message(claims))
        if not username:
            raise SignInRefused("Your identity provider sent neither a username nor an email address.")
        if user_model._default_manager.filter(username__iexact=username).exists():
            raise SignInRefused(
                f"An account named {username} already exists here and is not linked to company "
                "sign-in. Ask an administrator."
            )
        user = user_model._default_manager.create_user(
            username=username, email=_claim_text(claims, "email", _FIELD_LENGTHS["email"])
        )
        user.set_unusable_password()
        identity = OidcIdentity.objects.create(
            user=user, issuer=issuer, subject=subject, created_at=now, last_sign_in_at=now
        )
        auth_event_record(
            AuthEventKind.USER_CREATED,
            request=request,
            user=user,
            actor_label=ACTOR,
            method=METHOD,
            detail=f"first company sign-in (subject {subject})",
        )
    user = identity.user
    for field, claim in (("first_name", "given_name"), ("last_name", "family_name"), ("email", "email")):
        value = _claim_text(claims, claim, _FIELD_LENGTHS[field])
        if value and getattr(user, field) != value:
            setattr(user, field, value)
    user.save()
    _roles_sync(user=user, granted=granted, request=request)
    identity.last_sign_in_at = now
    identity.save(update_fields=["last_sign_in_at"])
    if not user.is_active:
        return user, "Your account is switched off here. Ask an administrator."
    if not granted:
        return user, _no_role_message(claims)
    return user, None


def _no_role_message(claims: dict) -> str:
    claim = settings.C360_OIDC_GROUPS_CLAIM
    if claim not in claims:
        return (
            f"Your identity provider did not say which groups you are in (no {claim!r} claim), "
            "so you have no role here. Ask an administrator."
        )
    return "None of your groups at your identity provider gives a role here. Ask an administrator."


def _roles_sync(*, user, granted: dict[str, list[str]], request: HttpRequest | None) -> None:
    held = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
    for group in Group.objects.filter(name__in=set(granted) - held).order_by("name"):
        user.groups.add(group)
        auth_event_record(
            AuthEventKind.ROLE_ADDED,
            request=request,
            user=user,
            actor_label=ACTOR,
            method=METHOD,
            detail=f"{group.name} (provider group {', '.join(granted[group.name])})",
        )
    for group in Group.objects.filter(name__in=held - set(granted)).order_by("name"):
        user.groups.remove(group)
        auth_event_record(
            AuthEventKind.ROLE_REMOVED,
            request=request,
            user=user,
            actor_label=ACTOR,
            method=METHOD,
            detail=f"{group.name} (no longer granted by the identity provider)",
        )


class CompanyOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the provider found by discovery, the ID token checked
    for issuer and audience too, and users found by subject (``oidc_user_sign_in``). Answers only
    the callback of company sign-in (its ``nonce`` argument); a password sign-in passes it by.
    Whatever goes wrong returns None with the reason on ``request.oidc_refusal``: never a 500."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes a backend for each authenticate() and each request's user: nothing here
        # may reach the provider or require settings that are empty while company sign-in is off.
        self.UserModel = get_user_model()
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.OIDC_RP_CLIENT_ID = settings.C360_OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.C360_OIDC_CLIENT_SECRET

    def authenticate(
        self, request: HttpRequest | None, *, nonce: str | None, code_verifier: str | None = None
    ):
        if request is None or not oidc_enabled():
            return None
        try:
            metadata = provider_metadata()
            self.OIDC_OP_TOKEN_ENDPOINT = metadata["token_endpoint"]
            self.OIDC_OP_JWKS_ENDPOINT = metadata["jwks_uri"]
            self.OIDC_OP_USER_ENDPOINT = metadata.get("userinfo_endpoint")
            return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except SignInRefused as exc:
            refusal_set(request, str(exc))
        except ProviderUnavailable as exc:
            logger.warning("company sign-in: the provider is unavailable: %s", exc)
            refusal_set(request, "Your identity provider cannot be reached. Try again later.")
        except (
            SuspiciousOperation,
            jwt.InvalidTokenError,
            requests.RequestException,
            ValueError,
            KeyError,
        ) as exc:
            logger.warning("company sign-in refused: %s: %s", type(exc).__name__, exc)
            refusal_set(
                request,
                "Your identity provider's answer could not be verified (it may have expired). "
                "Please sign in again.",
            )
        return None

    def _verify_jws(self, payload, key):
        """Signature (RS256 only), issuer, audience, expiry: mozilla-django-oidc checks the
        signature alone (and the nonce after this)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"ID token signed with {header.get('alg')!r}, not {self.OIDC_RP_SIGN_ALGO}"
            )
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=settings.C360_OIDC_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    def get_or_create_user(self, access_token, id_token, payload):
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if str(userinfo.get("sub")) != str(payload.get("sub")):
                raise SuspiciousOperation("the userinfo is about another subject than the ID token")
            claims.update(userinfo)
        return oidc_user_sign_in(issuer=settings.C360_OIDC_ISSUER, claims=claims, request=self.request)
