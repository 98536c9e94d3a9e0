"""API throttles: per token, and per address for requests without a valid token or session
(guessed tokens, no credentials), counted in the cache every process shares."""

from __future__ import annotations

import copy
import uuid

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PARTIES = "/api/v1/parties/"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Counters of this test's own (the suite's other requests are counted in the same cache)."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"throttle-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = caches


def test_guessing_tokens_from_one_address_is_throttled(api, settings):
    settings.C360_API_ANON_RATE = "5/minute"
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    codes = []
    for n in range(7):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token c360_guess{n}")
        codes.append(guesser.get(PARTIES).status_code)
    assert codes == [401] * 5 + [429, 429]
    refused = guesser.get(PARTIES)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "throttled" in refused.json()["detail"].lower()
    # The throttle is per address: another client is not slowed down, nor is a valid token
    # (it has its own, higher rate), even from the guessing address.
    other = APIClient(REMOTE_ADDR="203.0.113.10")
    other.credentials(HTTP_AUTHORIZATION="Token c360_other")
    assert other.get(PARTIES).status_code == 401
    assert api("steward").get(PARTIES, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_requests_without_credentials_are_throttled_per_address(settings):
    settings.C360_API_ANON_RATE = "3/minute"
    anonymous = APIClient(REMOTE_ADDR="203.0.113.20")
    codes = [anonymous.get(PARTIES).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert anonymous.get("/api/schema/").status_code == 429  # the schema too


def test_a_forged_x_forwarded_for_does_not_make_a_new_client(settings):
    settings.C360_API_ANON_RATE = "3/minute"
    client = APIClient(REMOTE_ADDR="203.0.113.30")
    codes = [client.get(PARTIES, HTTP_X_FORWARDED_FOR=f"10.9.8.{n}").status_code for n in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(settings):
    settings.C360_API_ANON_RATE = "2/minute"
    settings.C360_TRUSTED_PROXIES = 1
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")
    first = [proxy.get(PARTIES, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code for _ in range(3)]
    second = [proxy.get(PARTIES, HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.2").status_code for _ in range(3)]
    assert first == [401, 401, 429] and second == [401, 401, 429]


def test_a_token_is_throttled_at_its_rate_and_a_refused_request_is_not_counted(api, settings):
    settings.C360_API_RATE = "4/minute"
    client = api("steward")
    codes = [client.get(PARTIES).status_code for _ in range(8)]
    assert codes == [200] * 4 + [429] * 4
    assert api("marketing").get(PARTIES).status_code == 200  # another token has its own count


def test_a_signed_in_browser_session_counts_as_its_user(client, steward, settings):
    settings.C360_API_RATE = "2/minute"
    settings.C360_API_ANON_RATE = "100/minute"
    client.force_login(steward)
    codes = [client.get(PARTIES).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_malformed_rate_fails_at_start_with_the_variable_named(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from c360.settings.base import _rate

    monkeypatch.setenv("C360_API_RATE", "1200 per minute")
    with pytest.raises(ImproperlyConfigured, match="C360_API_RATE='1200 per minute' is not a rate"):
        _rate("C360_API_RATE", "1200/minute")


def test_requests_at_the_end_of_one_minute_and_the_start_of_the_next_stay_within_the_rate(settings):
    # The two weighted fixed windows assumed the previous minute's requests evenly spread: a
    # token that sent its requests at the end of one minute got 1,400 through a 1,200-a-minute
    # limit in 43 seconds (here: 10 at 0:55, then 5 more at 1:30).
    from types import SimpleNamespace

    from c360.api_auth import TokenRateThrottle

    settings.C360_API_RATE = "10/minute"
    clock = {"now": 6_000_000.0 + 55}  # 55 seconds into a minute

    class Throttle(TokenRateThrottle):
        def timer(self):
            return clock["now"]

    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=uuid.uuid4().hex))

    def allowed(n: int) -> int:
        return sum(Throttle().allow_request(request, None) for _ in range(n))

    assert allowed(12) == 10
    clock["now"] += 35  # 0:55 → 1:30: the ten are still within the last minute
    assert allowed(10) == 0
    refused = Throttle()
    assert not refused.allow_request(request, None)
    assert 25 <= refused.wait() <= 31  # when the ten leave the last minute (and its last slice)
    clock["now"] += refused.wait()
    assert allowed(12) == 10
