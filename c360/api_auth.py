"""How API clients authenticate and how often they may call (DRF reads these classes from
its settings while it starts, so this module imports nothing of DRF's views)."""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.throttling import SimpleRateThrottle

from c360.client_address import client_address


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token c360_…`` — a token created by an administrator (``api_tokens``).

    Requests without a valid token or a signed-in session are counted by the anonymous throttle
    here, because DRF checks throttles only after permissions: an anonymous request is refused
    (401) before any throttle would see it, so guessing tokens would never be slowed down."""

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            if not getattr(request._request, "user", None) or not request._request.user.is_authenticated:
                AnonymousRateThrottle().check(request)  # no session either (that class comes next)
            return None
        if len(header) != 2:
            AnonymousRateThrottle().check(request)
            raise exceptions.AuthenticationFailed("Send the header as: Authorization: Token <token>.")
        from c360.api_tokens import api_token_user

        try:
            user = api_token_user(header[1].decode("latin-1"))
        except ValueError as exc:
            AnonymousRateThrottle().check(request)
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return user, None

    def authenticate_header(self, request) -> str:
        return self.keyword  # so that a request without credentials answers 401, not 403


class SharedRateThrottle(SimpleRateThrottle):
    """A rate limit that holds across every process sharing the cache (Redis, or the shared file
    cache of ``c360.cache``), unlike DRF's own throttles: they read a list of timestamps, add one
    and write it back, so concurrent requests in several processes overwrite each other's counts.

    Counting: the ``duration`` is cut into ``BUCKETS`` slices, each with a counter the cache
    increases atomically (``add`` then ``incr``). A request is allowed while this slice and the
    ``BUCKETS`` before it hold at most the limit: they cover the last ``duration`` and a little
    more, so no ``duration`` ever lets more requests through than the limit. (The two weighted
    fixed windows used before assumed the previous window's requests evenly spread: a client
    that sent its requests at the end of one window got 1,400 through a 1,200-a-minute limit in
    43 seconds, and up to twice the limit at worst.) A refused request is taken back off the
    counter, so a client that keeps calling while refused is let in again once its earlier
    requests age out."""

    cache_format = "throttle:%(scope)s:%(ident)s"
    BUCKETS = 10

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        width = self.duration / self.BUCKETS
        bucket = int(now // width)
        # The slices' count and length are in the key: a changed rate or period starts afresh.
        counter = f"{self.key}:{self.duration}:{self.BUCKETS}:"
        current_key = f"{counter}{bucket}"
        keep = math.ceil(self.duration + 2 * width) + 1  # read by the next BUCKETS slices
        self.cache.add(current_key, 0, timeout=keep)
        try:
            count = self.cache.incr(current_key)
        except ValueError:  # expired between add and incr: a new counter
            self.cache.add(current_key, 0, timeout=keep)
            count = self.cache.incr(current_key)
        earlier_keys = [f"{counter}{b}" for b in range(bucket - self.BUCKETS, bucket)]
        found = self.cache.get_many(earlier_keys)
        earlier = [int(found.get(key, 0) or 0) for key in earlier_keys]  # oldest first
        if sum(earlier) + count <= self.num_requests:
            return True
        self.cache.decr(current_key)
        self._wait = self._seconds_until_allowed(earlier, count - 1, bucket, width, now)
        return False

    def _seconds_until_allowed(
        self, earlier: list[int], count: int, bucket: int, width: float, now: float
    ) -> float:
        """When the oldest slices will have left the sum enough for one more request."""
        excess = sum(earlier) + count + 1 - self.num_requests
        freed = 0
        for age, requests in enumerate(earlier):  # slice bucket - BUCKETS + age
            freed += requests
            if freed >= excess:
                return max((bucket - self.BUCKETS + age + 1 + self.BUCKETS) * width - now, 1.0)
        return max((bucket + 1 + self.BUCKETS) * width - now, 1.0)  # this slice alone is full

    def wait(self) -> float | None:
        return math.ceil(getattr(self, "_wait", self.duration))

    def check(self, request) -> None:
        """Raise DRF's ``Throttled`` (429 with ``Retry-After``) when the limit is reached."""
        if not self.allow_request(request, None):
            raise exceptions.Throttled(wait=self.wait())


class TokenRateThrottle(SharedRateThrottle):
    """Requests per token (each token is its own user), ``C360_API_RATE`` (e.g. 600/minute);
    a signed-in browser session counts as its user."""

    scope = "token"

    def get_rate(self) -> str:
        return settings.C360_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # counted by AnonymousRateThrottle while authenticating
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(SharedRateThrottle):
    """Requests without a valid token or session, per client address, ``C360_API_ANON_RATE``."""

    scope = "anon"

    def get_rate(self) -> str:
        return settings.C360_API_ANON_RATE

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request) or "unknown"}
