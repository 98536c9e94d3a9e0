"""Company sign-in (OpenID Connect) against a real provider on loopback (tests/accounts/
oidc_provider.py): the whole redirect flow with Django's test client, the provider reached over
HTTP by the browser's side (requests) and by the server's side (the backend's token, JWKS and
userinfo calls)."""

from __future__ import annotations

import logging
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages

from c360.accounts.models import AuthEvent, AuthEventKind, OidcIdentity
from c360.accounts.oidc import provider_metadata_forget
from c360.kernel.roles import ADMINISTRATOR, DATA_STEWARD, MARKETING
from tests.accounts.oidc_provider import OidcProvider
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLE_MAP = {"c360-stewards": [DATA_STEWARD], "c360-marketing": [MARKETING], "c360-admins": [ADMINISTRATOR]}


@pytest.fixture
def provider(settings):
    with OidcProvider() as provider:
        settings.C360_OIDC_ISSUER = provider.url
        settings.C360_OIDC_CLIENT_ID = provider.CLIENT_ID
        settings.C360_OIDC_CLIENT_SECRET = provider.CLIENT_SECRET
        settings.C360_OIDC_ROLE_MAP = ROLE_MAP
        settings.C360_OIDC_LABEL = "Example Corp"
        provider_metadata_forget()
        yield provider
    provider_metadata_forget()


def _sign_in(client, provider: OidcProvider, username: str):
    """The browser's part: start at the site, pass by the provider (signed in there already),
    come back to the callback. Returns the callback's response."""
    provider.auto_sign_in = username
    start = client.get("/accounts/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"].startswith(f"{provider.url}/authorize?")
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/accounts/oidc/callback/"
    return client.get(f"{back.path}?{back.query}")


def _user_id(client):
    return client.session.get("_auth_user_id")


def _roles(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_first_sign_in_creates_the_user_with_the_roles_of_their_groups(client, provider):
    provider.add_user(
        "ada",
        groups=["c360-stewards", "c360-marketing", "everyone"],
        email="ada@example.com",
        given_name="Ada",
        family_name="Lovelace",
    )

    response = _sign_in(client, provider, "ada")

    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username="ada")
    assert _user_id(client) == str(user.pk)
    assert (user.first_name, user.last_name, user.email) == ("Ada", "Lovelace", "ada@example.com")
    assert _roles(user) == {DATA_STEWARD, MARKETING}
    assert not user.is_staff and not user.is_superuser and not user.has_usable_password()
    identity = OidcIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (provider.url, provider.users["ada"].sub)
    events = AuthEvent.objects.filter(user=user).exclude(kind=AuthEventKind.SIGN_IN)
    assert sorted((e.kind, e.detail, e.actor_label, e.method) for e in events) == [
        (
            AuthEventKind.ROLE_ADDED,
            "Data steward (provider group c360-stewards)",
            "identity provider",
            "oidc",
        ),
        (AuthEventKind.ROLE_ADDED, "Marketing (provider group c360-marketing)", "identity provider", "oidc"),
        (
            AuthEventKind.USER_CREATED,
            f"first company sign-in (subject {identity.subject})",
            "identity provider",
            "oidc",
        ),
    ]
    # the authorization request had state, nonce and PKCE; the token request the verifier
    assert provider.token_requests[-1]["code_verifier"]
    assert client.get("/").status_code == 200


def test_the_request_to_the_provider_carries_state_nonce_and_pkce(client, provider):
    start = client.get("/accounts/oidc/authenticate/?next=/parties/")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert {"state", "nonce", "code_challenge"} <= set(query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/callback/"]


def test_a_group_the_provider_no_longer_sends_takes_the_role_away_at_the_next_sign_in(client, provider):
    person = provider.add_user("bob", groups=["c360-stewards", "c360-admins"])
    _sign_in(client, provider, "bob")
    user = get_user_model().objects.get(username="bob")
    assert _roles(user) == {DATA_STEWARD, ADMINISTRATOR}

    # When the provider drops the admins group and bob signs in again
    person.groups = ["c360-stewards"]
    client.logout()
    response = _sign_in(client, provider, "bob")

    # Then he is signed in as a steward only, the same user, and the audit says who removed it
    assert response.status_code == 302 and _user_id(client) == str(user.pk)
    assert _roles(user) == {DATA_STEWARD}
    assert get_user_model().objects.filter(username="bob").count() == 1
    removed = AuthEvent.objects.get(user=user, kind=AuthEventKind.ROLE_REMOVED)
    assert removed.detail == "Administrator (no longer granted by the identity provider)"
    assert (removed.actor_label, removed.method) == ("identity provider", "oidc")


def test_the_provider_never_makes_anyone_staff_or_superuser_and_other_groups_are_kept(client, provider):
    provider.add_user("cy", groups=["c360-admins"])
    _sign_in(client, provider, "cy")
    user = get_user_model().objects.get(username="cy")
    other, _ = user.groups.model.objects.get_or_create(name="Newsletter editors")
    user.groups.add(other)

    client.logout()
    _sign_in(client, provider, "cy")

    user.refresh_from_db()
    assert _roles(user) == {ADMINISTRATOR, "Newsletter editors"}  # only the three roles are managed
    assert not user.is_staff and not user.is_superuser


def test_someone_in_no_mapped_group_is_refused_with_a_message_and_no_user_is_made(client, provider):
    provider.add_user("dee", groups=["everyone"])

    response = _sign_in(client, provider, "dee")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert _user_id(client) is None
    assert not get_user_model().objects.filter(username="dee").exists()
    assert _messages(response) == [
        "None of your groups at your identity provider gives a role here. Ask an administrator."
    ]


def test_losing_every_mapped_group_takes_the_roles_away_and_refuses(client, provider):
    person = provider.add_user("eve", groups=["c360-marketing"])
    _sign_in(client, provider, "eve")
    client.logout()
    person.groups = []

    response = _sign_in(client, provider, "eve")

    user = get_user_model().objects.get(username="eve")
    assert _user_id(client) is None and _roles(user) == set()
    assert AuthEvent.objects.filter(user=user, kind=AuthEventKind.ROLE_REMOVED).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "None of your groups at your identity provider gives a role here" in page


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("tampered", "InvalidSignatureError"),
        ("expired", "ExpiredSignatureError"),
        ("wrong_audience", "InvalidAudienceError"),
        ("wrong_nonce", "Nonce verification failed"),
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(client, provider, fault, reason, caplog):
    caplog.set_level(logging.WARNING, logger="c360.security")
    provider.add_user("fay", groups=["c360-admins"])
    provider.token_fault = fault

    response = _sign_in(client, provider, "fay")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert _user_id(client) is None
    assert not get_user_model().objects.filter(username="fay").exists()
    assert _messages(response) == [
        "Your identity provider's answer could not be verified (it may have expired). Please sign in again."
    ]
    assert reason in caplog.text  # refused for this fault, not for another
    failed = AuthEvent.objects.get(kind=AuthEventKind.SIGN_IN_FAILED)
    assert failed.method == "oidc" and failed.detail  # which way, and why (it said neither)


def test_a_local_account_of_the_same_name_is_not_taken_over(client, provider):
    local = UserFactory(username="gus", is_superuser=True)
    provider.add_user("gus", groups=["c360-admins"])

    response = _sign_in(client, provider, "gus")

    assert _user_id(client) is None and not OidcIdentity.objects.exists()
    assert "An account named gus already exists here" in _messages(response)[0]
    local.refresh_from_db()
    assert _roles(local) == set()


def test_a_callback_with_an_unknown_state_or_an_error_says_so_and_is_no_500(client, provider):
    provider.add_user("hal", groups=["c360-admins"])
    client.get("/accounts/oidc/authenticate/")  # a sign-in begun: the session has states

    forged = client.get("/accounts/oidc/callback/?code=abc&state=not-ours")
    forged_page = client.get(forged["Location"]).content.decode()
    denied = client.get("/accounts/oidc/callback/?error=access_denied&state=x")

    assert forged.status_code == 302 and denied.status_code == 302
    assert "This sign-in was started elsewhere or has already been used. Please sign in again." in forged_page
    assert _messages(denied) == ["Your identity provider did not sign you in (access_denied)."]
    assert _user_id(client) is None


def test_a_provider_that_cannot_be_reached_gives_a_message(client, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.C360_OIDC_ISSUER = f"http://127.0.0.1:{port}"
    settings.C360_OIDC_CLIENT_ID = "x"
    provider_metadata_forget()

    response = client.get("/accounts/oidc/authenticate/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert _messages(response) == ["Your identity provider cannot be reached. Try again later."]


def test_sign_out_ends_the_session_at_the_provider_too(client, provider):
    provider.add_user("ivy", groups=["c360-stewards"])
    _sign_in(client, provider, "ivy")
    id_token = client.session["oidc_id_token"]

    response = client.post("/accounts/logout/")

    assert _user_id(client) is None
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.url}/logout"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    # the provider ends its session and sends the browser back to the sign-in page
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.headers["Location"] == "http://testserver/accounts/login/"
    assert provider.end_session_requests[-1]["id_token_hint"] == id_token


def test_a_local_users_sign_out_is_unchanged(client, provider, steward):
    client.force_login(steward)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_the_sign_in_page_offers_both(client, provider):
    page = client.get("/accounts/login/?next=/parties/").content.decode()
    assert (
        'href="/accounts/oidc/authenticate/?next=/parties/"' in page and "Sign in with Example Corp" in page
    )
    assert 'name="password"' in page


def test_without_an_issuer_only_the_password_form_is_offered(client, settings):
    settings.C360_OIDC_ISSUER = ""
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=a&state=b").status_code == 404


def test_local_login_off_hides_the_form_and_refuses_a_posted_password(client, provider, settings, steward):
    settings.C360_LOCAL_LOGIN = False
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Example Corp" in page and 'name="password"' not in page

    response = client.post("/accounts/login/", {"username": "t-steward", "password": "pw-for-tests"})

    assert response.status_code == 403 and _user_id(client) is None
    assert "Signing in with a password is switched off here" in response.content.decode()
    # nor through the admin's sign-in page
    client.post("/admin/login/", {"username": "t-steward", "password": "pw-for-tests"})
    assert _user_id(client) is None


def test_local_login_off_leaves_superusers_the_admins_sign_in_page(client, settings):
    settings.C360_LOCAL_LOGIN = False
    root = UserFactory(username="root", is_superuser=True, is_staff=True)

    client.post("/admin/login/?next=/admin/", {"username": "root", "password": "pw-for-tests"})

    assert _user_id(client) == str(root.pk)


def test_administrators_see_the_sign_in_settings_without_the_secret(role_client, provider):
    page = role_client("administrator").get("/accounts/sign-in-settings/").content.decode()
    assert provider.url in page and provider.CLIENT_ID in page and "c360-stewards" in page
    assert provider.CLIENT_SECRET not in page
    assert "http://testserver/accounts/oidc/callback/" in page


def test_others_may_not_see_the_sign_in_settings(role_client, provider):
    assert role_client("steward").get("/accounts/sign-in-settings/").status_code == 403


def test_an_address_locked_out_by_failed_passwords_gets_the_lockout_page_from_the_callback(
    client, provider, settings
):
    # Given an address that failed ten passwords (for ten names) and is locked out
    settings.C360_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    for n in range(10):
        client.post("/accounts/login/", {"username": f"guess-{n}", "password": "wrong"})
    provider.add_user("jo", groups=["c360-stewards"])

    response = _sign_in(client, provider, "jo")

    # Then company sign-in from it is refused too, with the lockout page (not a 500)
    assert response.status_code == 429 and "Too many failed sign-ins" in response.content.decode()
    assert _user_id(client) is None and not get_user_model().objects.filter(username="jo").exists()
