"""How API clients authenticate and how often they may call (DRF reads these classes from
its settings while it starts, so this module imports nothing of DRF's views)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.throttling import UserRateThrottle


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token c360_…`` — a token created by an administrator (``api_tokens``)."""

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Token <token>.")
        from c360.api_tokens import api_token_user

        try:
            user = api_token_user(header[1].decode("latin-1"))
        except ValueError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return user, None

    def authenticate_header(self, request) -> str:
        return self.keyword  # so that a request without credentials answers 401, not 403


class TokenRateThrottle(UserRateThrottle):
    """Requests per token (each token is its own user), ``C360_API_RATE`` (e.g. 600/minute)."""

    scope = "token"

    def get_rate(self) -> str:
        return settings.C360_API_RATE
