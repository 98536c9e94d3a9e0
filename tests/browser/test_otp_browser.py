"""Enrolling a second factor in a real browser (issue 20, item 2): an administrator, who must
have one, signs in, is sent to enrol, reads the key off the page (as one types it into an app
when the camera will not do), confirms with the app's code, sees the recovery codes once, signs
out, signs in again and gives a code (and another time a recovery code) before any page.
Screenshots: var/screenshots/otp-*.png."""

from __future__ import annotations

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from c360.accounts.models import AuthEvent, AuthEventKind
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _app_code(secret_text: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed in (``steps_ahead`` 30-second steps on:
    a code is taken once, and the next one is accepted early)."""
    key = b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{totp(key, drift=steps_ahead):06d}"


def test_an_administrator_enrols_a_second_factor_and_gives_it_at_the_next_sign_in(page, settings):
    settings.C360_OTP_REQUIRED = "administrators"
    demo_users_ensure()
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Given an administrator without a second factor: sent to enrol before anything else
    sign_in(page, "admin", "admin-demo")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.get_by_text("Your account requires a second factor")).to_be_visible()
    expect(page.get_by_test_id("otp-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("otp-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret), secret
    page.screenshot(path=str(SHOTS / "otp-enrol.png"), full_page=True)

    # a wrong code first: said so, nothing turned on
    page.get_by_label("Code", exact=True).fill(f"{(int(_app_code(secret)) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.wait_for_timeout(1100)  # django-otp's throttle: one second after one wrong code

    # When they confirm with the app's code
    page.get_by_label("Code", exact=True).fill(_app_code(secret))
    page.get_by_role("button", name="Turn on").click()

    # Then ten recovery codes, shown once
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
    page.screenshot(path=str(SHOTS / "otp-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/accounts/two-factor/")
    expect(page.get_by_test_id("otp-state")).to_contain_text("Recovery codes left: 10")
    page.screenshot(path=str(SHOTS / "otp-manage.png"), full_page=True)

    # When they sign out and in again: the code before any page, the admin included
    page.get_by_role("button", name="Sign out").first.click()
    sign_in(page, "admin", "admin-demo")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next=%2Fadmin%2F$"))
    page.screenshot(path=str(SHOTS / "otp-verify.png"), full_page=True)
    page.get_by_label("Code", exact=True).fill(_app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # And another time with a recovery code (no phone at hand): it works once
    page.goto("/")
    page.get_by_role("button", name="Sign out").first.click()
    sign_in(page, "admin", "admin-demo")
    page.get_by_label("Code", exact=True).fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You used a recovery code; 9 left")).to_be_visible()
    page.screenshot(path=str(SHOTS / "otp-recovery-used.png"), full_page=True)

    kinds = list(AuthEvent.objects.filter(username="admin").values_list("kind", flat=True))
    for kind in (
        AuthEventKind.OTP_FAILED,
        AuthEventKind.OTP_ENROLLED,
        AuthEventKind.RECOVERY_CODES_ISSUED,
        AuthEventKind.OTP_VERIFIED,
        AuthEventKind.RECOVERY_CODE_USED,
    ):
        assert kind in kinds, kind
