"""Signing in through the company's identity provider, in a real browser: the sign-in page's
button, the provider's own page (the test provider on loopback), back signed in with the role the
provider's group gives; signing out ends the provider's session too."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from c360.accounts.oidc import provider_metadata_forget
from c360.kernel.roles import ADMINISTRATOR, DATA_STEWARD
from tests.accounts.oidc_provider import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def provider(settings):
    with OidcProvider() as provider:
        settings.C360_OIDC_ISSUER = provider.url
        settings.C360_OIDC_CLIENT_ID = provider.CLIENT_ID
        settings.C360_OIDC_CLIENT_SECRET = provider.CLIENT_SECRET
        settings.C360_OIDC_ROLE_MAP = {"c360-stewards": [DATA_STEWARD], "c360-admins": [ADMINISTRATOR]}
        settings.C360_OIDC_LABEL = "Example Corp"
        # as settings do from C360_OIDC_ISSUER: the sign-out form may continue at the provider
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(provider.url)
        settings.CONTENT_SECURITY_POLICY = policy
        # the second factor is another test's subject: this one is about company sign-in
        settings.C360_OTP_REQUIRED = "off"
        provider_metadata_forget()
        yield provider
    provider_metadata_forget()


def test_a_person_signs_in_through_the_identity_provider_and_out_again(page, provider):
    SHOTS.mkdir(parents=True, exist_ok=True)
    provider.add_user(
        "grace",
        password="provider-pw",
        groups=["c360-stewards", "c360-admins", "all-staff"],
        email="grace@example.com",
        given_name="Grace",
        family_name="Hopper",
    )

    # Given the sign-in page, which offers the company's sign-in and the password form
    page.goto("/parties/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/parties/"))
    expect(page.get_by_label("Password")).to_be_visible()
    page.screenshot(path=SHOTS / "oidc-1-sign-in-page.png")

    # When she chooses the company's sign-in and signs in at the provider
    page.get_by_role("link", name="Sign in with Example Corp").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    assert page.url.startswith(f"{provider.url}/authorize?")
    page.get_by_label("Provider username").fill("grace")
    page.get_by_label("Provider password").fill("provider-pw")
    page.screenshot(path=SHOTS / "oidc-2-provider.png")
    page.get_by_role("button", name="Sign in at the provider").click()

    # Then she is back where she was going, signed in with the roles of her groups
    expect(page).to_have_url(re.compile(r"/parties/$"))
    expect(page.locator(".userbox")).to_contain_text("Grace Hopper")
    expect(page.locator(".userbox")).to_contain_text("Data steward")
    expect(page.locator(".userbox")).to_contain_text("Administrator")
    page.screenshot(path=SHOTS / "oidc-3-signed-in.png")

    # and, as an administrator, can read how sign-in is set up
    page.goto("/accounts/sign-in-settings/")
    expect(page.get_by_test_id("role-map")).to_contain_text("c360-stewards")
    page.screenshot(path=SHOTS / "oidc-4-sign-in-settings.png", full_page=True)

    # When she signs out, the provider ends its session too and sends her back to sign in
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert len(provider.end_session_requests) == 1
    assert provider.end_session_requests[0]["id_token_hint"]
    page.goto("/parties/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
