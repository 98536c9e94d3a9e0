"""Attacks on sign-in, found by trying them (issue 20's review): a session key known before the
second factor must not become a verified session."""

from __future__ import annotations

import pytest
from django.test import Client

from c360.accounts.models import UserSession
from tests.accounts.test_otp import admin_user, code_now, enrol, required  # noqa: F401

pytestmark = pytest.mark.django_db

SECURITY = "/accounts/security/"


def _password_sign_in(username: str) -> Client:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": username, "password": "pw-for-tests"})
    assert response.status_code == 302
    return browser


def test_giving_the_second_factor_gives_the_session_a_new_key(client, admin_user, required):  # noqa: F811
    client.force_login(admin_user)
    device, _ = enrol(client, admin_user)
    browser = _password_sign_in(admin_user.username)
    known_before = browser.session.session_key  # planted, or seen, before the code was given
    assert browser.get(SECURITY)["Location"].startswith("/accounts/two-factor/verify/")

    response = browser.post("/accounts/two-factor/verify/", {"code": code_now(device)})

    assert response.status_code == 302
    assert browser.get(SECURITY).status_code == 200
    assert browser.session.session_key != known_before
    # the row of the session follows its key ("sign out everywhere" finds it)
    assert UserSession.objects.filter(session_key=browser.session.session_key, user=admin_user).exists()
    assert not UserSession.objects.filter(session_key=known_before).exists()
    fixed = Client()
    fixed.cookies["sessionid"] = known_before
    assert fixed.get(SECURITY)["Location"].startswith("/accounts/login/")


def test_enrolling_gives_the_session_a_new_key(client, admin_user, required):  # noqa: F811
    client.force_login(admin_user)
    known_before = client.session.session_key

    enrol(client, admin_user)

    assert client.session.session_key != known_before
    assert client.get(SECURITY).status_code == 200
    fixed = Client()
    fixed.cookies["sessionid"] = known_before
    assert fixed.get(SECURITY)["Location"].startswith("/accounts/login/")
