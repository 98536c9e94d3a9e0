"""Signing in: after repeated failures for one username or from one address, signing in is
refused for a while (django-axes, counted in the database every process shares), with a page
that says so and an audit entry."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _sign_in(client, username: str, password: str, address: str = "127.0.0.1", path: str = LOGIN):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_sixty_wrong_passwords_then_the_right_one_does_not_sign_in(client, steward, caplog):
    # Given the adversarial test's exact input: 60 wrong passwords for one user, then the right one
    caplog.set_level(logging.WARNING, logger="c360.security")
    codes = [_sign_in(client, "t-steward", f"guess-{n}").status_code for n in range(60)]
    right = _sign_in(client, "t-steward", "pw-for-tests")

    # Then the first nine failures are ordinary, the tenth locks out, and the right password
    # is refused with a page that says why and until when
    assert codes[:9] == [200] * 9 and set(codes[9:]) == {429}
    assert right.status_code == 429 and not _signed_in(client)
    text = right.content.decode()
    assert "Too many failed sign-ins" in text and "paused for 15 minutes" in text and "UTC" in text
    # And the audit trail has it: the attempt counted, every failure logged, the lockout marked
    attempt = AccessAttempt.objects.get(username="t-steward")
    assert attempt.failures_since_start == 61  # tries while locked out count (and restart the pause)
    assert AccessFailureLog.objects.filter(username="t-steward", locked_out=True).exists()
    assert "sign-in locked out for 15 minutes: username 't-steward', address 127.0.0.1" in caplog.text
    assert not AccessLog.objects.filter(username="t-steward").exists()  # never signed in


def test_below_the_limit_the_right_password_signs_in(client, steward):
    for n in range(9):
        assert _sign_in(client, "t-steward", f"typo-{n}").status_code == 200
    assert _sign_in(client, "t-steward", "pw-for-tests").status_code == 302
    assert _signed_in(client)
    assert AccessLog.objects.filter(username="t-steward").count() == 1  # the audit of the sign-in


def test_failures_for_many_usernames_from_one_address_lock_that_address(client, steward, marketer):
    for n in range(49):  # credential stuffing: a few guesses each for many usernames
        _sign_in(client, f"someone-{n}", "guess", address="198.51.100.7")
    assert _sign_in(client, "t-marketing", "pw-for-tests", address="198.51.100.7").status_code == 302
    client.logout()
    _sign_in(client, "someone-49", "guess", address="198.51.100.7")  # the 50th failure
    assert _sign_in(client, "t-marketing", "pw-for-tests", address="198.51.100.7").status_code == 429
    # From another address the same user signs in
    assert _sign_in(client, "t-marketing", "pw-for-tests", address="198.51.100.8").status_code == 302


def test_one_users_typos_do_not_lock_out_colleagues_behind_the_same_address(client, steward, marketer):
    # make run, or an office behind one NAT address: ten typos of the steward lock the steward only
    for n in range(12):
        _sign_in(client, "t-steward", f"typo-{n}", address="203.0.113.5")
    assert _sign_in(client, "t-steward", "pw-for-tests", address="203.0.113.5").status_code == 429
    assert _sign_in(client, "t-marketing", "pw-for-tests", address="203.0.113.5").status_code == 302


def test_failures_for_one_username_from_many_addresses_lock_that_username(client, steward, marketer):
    for n in range(10):
        _sign_in(client, "t-steward", "guess", address=f"198.51.100.{n + 20}")
    assert _sign_in(client, "t-steward", "pw-for-tests", address="192.0.2.1").status_code == 429
    # Another user from that fresh address is not affected
    assert _sign_in(client, "t-marketing", "pw-for-tests", address="192.0.2.1").status_code == 302


def test_a_forged_x_forwarded_for_does_not_spread_the_failures(client, steward):
    # the forged header is not believed: all the failures count for the one real address
    for n in range(50):
        client.post(LOGIN, {"username": f"x{n}", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"10.1.1.{n}")
    assert _sign_in(client, "t-steward", "pw-for-tests").status_code == 429


def test_the_admin_sign_in_is_locked_out_too(client, administrator):
    for n in range(10):
        _sign_in(client, "t-admin", f"guess-{n}", path="/admin/login/")
    refused = _sign_in(client, "t-admin", "pw-for-tests", path="/admin/login/")
    assert refused.status_code == 429 and b"Too many failed sign-ins" in refused.content
    assert client.get("/admin/").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, steward, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        _sign_in(client, "t-steward", f"guess-{n}")
    assert _sign_in(client, "t-steward", "pw-for-tests").status_code == 429
    # When the last try is older than the cool-off (15 minutes), the count no longer applies
    last_try = AccessAttempt.objects.get().attempt_time
    AccessAttempt.objects.update(attempt_time=last_try - timedelta(minutes=16))
    assert _sign_in(client, "t-steward", "pw-for-tests").status_code == 302


def test_an_administrator_sees_the_lockout_and_can_lift_it(client, steward, administrator):
    for n in range(10):
        _sign_in(client, "t-steward", f"guess-{n}", address="198.51.100.50")
    admin_client = type(client)()
    admin_client.force_login(administrator)
    listing = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and b"t-steward" in listing.content
    assert admin_client.get(reverse("admin:axes_accessfailurelog_changelist")).status_code == 200
    attempt = AccessAttempt.objects.get(username="t-steward")
    deleted = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302 and not AccessAttempt.objects.exists()
    assert _sign_in(client, "t-steward", "pw-for-tests", address="198.51.100.50").status_code == 302


def test_marketing_and_stewards_cannot_see_the_sign_in_records(role_client):
    for role in ("steward", "marketing"):
        assert role_client(role).get(reverse("admin:axes_accessattempt_changelist")).status_code in (302, 403)


def test_odd_usernames_and_user_agents_never_fail_a_sign_in_with_a_server_error(client):
    # A 400-character username gave a database error on PostgreSQL (axes keeps 255)
    UserFactory(username="ok-user")
    for username in ["x" * 400, "nul\x00name", "ünïcødé", ""]:
        assert _sign_in(client, username, "guess").status_code in (200, 429)
    odd_agent = client.post(
        LOGIN, {"username": "ok-user", "password": "guess"}, HTTP_USER_AGENT="bot\x00" * 200
    )
    assert odd_agent.status_code == 200
    assert AccessAttempt.objects.filter(username="x" * 255).exists()
    assert _sign_in(client, "ok-user", "pw-for-tests", address="192.0.2.99").status_code == 302


def test_in_production_the_client_is_the_address_the_proxy_appended():
    # Behind production's TLS proxy every request comes from the proxy: counted by its address,
    # ten wrong passwords from anyone would lock everyone out. A forged first entry is ignored.
    import os
    import secrets
    import subprocess
    import sys

    from tests.workers import ROOT

    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from c360.client_address import client_address\n"
        "print(client_address(RequestFactory().get('/', REMOTE_ADDR='10.0.0.5',"
        " HTTP_X_FORWARDED_FOR='forged, 203.0.113.7')))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "c360.settings.production",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "c360.example.com",
    }
    seen = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={**env, **extra},
        ).stdout.split()[-1]
        for extra in ({}, {"C360_TRUSTED_PROXIES": "0"})
    ]
    assert seen == ["203.0.113.7", "10.0.0.5"]
