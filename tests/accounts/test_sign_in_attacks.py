"""Attacks on sign-in, found by trying them (issue 20's review): a session key known before the
second factor must not become a verified session; a provider's odd claims (NUL, too long) never
give a 500; a link to the company sign-in's callback with ?error= does not sign anyone out."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from c360.accounts.models import OidcIdentity, UserSession
from c360.accounts.oidc import oidc_user_sign_in, roles_granted
from c360.kernel.roles import ADMINISTRATOR
from tests.accounts.test_oidc import ROLE_MAP, _messages, _sign_in, _user_id, provider  # noqa: F401
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


def _claims_changed(provider, **changes) -> None:  # noqa: F811
    claims_of = provider.claims_of
    provider.claims_of = lambda user: {**claims_of(user), **changes}


@pytest.mark.parametrize(
    ("changes", "username", "field", "expected"),
    [
        ({"preferred_username": "nul\x00user"}, "nuluser", "username", "nuluser"),
        ({"given_name": "Ann\x00e"}, "jo", "first_name", "Anne"),
        ({"email": "e" * 300 + "@example.com"}, "jo", "email", "e" * 254),
    ],
)
def test_a_providers_claims_with_a_nul_or_too_long_sign_in_cleaned(
    client,
    provider,  # noqa: F811
    changes,
    username,
    field,
    expected,
):
    """PostgreSQL refuses a NUL in text and a value longer than its column: both were a 500 at
    the callback (SQLite stored them as they came)."""
    provider.add_user("jo", groups=["c360-stewards"])
    _claims_changed(provider, **changes)

    response = _sign_in(client, provider, "jo")

    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(pk=_user_id(client))
    assert user.username == username and getattr(user, field) == expected


@pytest.mark.parametrize("sub", ["s" * 256, "a\x00b"])
def test_a_subject_too_long_or_with_a_nul_is_refused(sub, settings):
    """Cut to fit, two subjects could become one person; with a NUL, PostgreSQL refuses it (a
    500): refused instead, which the callback tells the person (it catches SuspiciousOperation)."""
    settings.C360_OIDC_ROLE_MAP = ROLE_MAP
    claims = {"sub": sub, "preferred_username": "kit", "groups": ["c360-stewards"]}

    with pytest.raises(SuspiciousOperation):
        oidc_user_sign_in(issuer="https://sso.example.com", claims=claims)

    assert not OidcIdentity.objects.exists() and not get_user_model().objects.filter(username="kit").exists()


def test_a_link_to_the_callback_with_an_error_signs_nobody_out(client, provider):  # noqa: F811
    provider.add_user("lou", groups=["c360-stewards"])
    _sign_in(client, provider, "lou")
    signed_in = _user_id(client)
    assert signed_in

    response = client.get("/accounts/oidc/callback/?error=access_denied")  # an <img> on another site

    assert response.status_code == 302
    assert _user_id(client) == signed_in
    # a sign-in this browser started and the provider refused still says why
    client.get("/accounts/oidc/authenticate/")
    state = next(iter(client.session["oidc_states"]))
    refused = client.get(f"/accounts/oidc/callback/?error=access_denied&state={state}")
    assert "Your identity provider did not sign you in (access_denied)." in _messages(refused)
    assert _user_id(client) is None


@pytest.mark.parametrize("groups", [{"c360-admins": False}, [["c360-admins"]], [{"c360-admins": 1}]])
def test_a_groups_claim_that_is_no_list_of_names_grants_no_role(groups, settings):
    """An object's keys are no groups the provider says someone is in."""
    settings.C360_OIDC_ROLE_MAP = ROLE_MAP
    settings.C360_OIDC_GROUPS_CLAIM = "groups"

    assert roles_granted({"sub": "s1", "groups": groups}) == {}
    assert roles_granted({"sub": "s1", "groups": ["c360-admins"]}) == {ADMINISTRATOR: ["c360-admins"]}
    assert roles_granted({"sub": "s1", "groups": "c360-admins"}) == {ADMINISTRATOR: ["c360-admins"]}
