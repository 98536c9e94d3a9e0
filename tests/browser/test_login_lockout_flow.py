"""A sign-in locked out after repeated failures, as a person sees it in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from parties.services.users import demo_users_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_after_ten_wrong_passwords_the_right_one_is_refused_with_a_clear_message(page):
    demo_users_ensure()
    page.goto("/accounts/login/")
    for n in range(9):
        page.get_by_label("Username").fill("steward")
        page.get_by_label("Password").fill(f"wrong-{n}")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("didn't match")
    page.get_by_label("Username").fill("steward")
    page.get_by_label("Password").fill("wrong-9")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed sign-ins for “steward” or from your network address")
    expect(alert).to_contain_text(re.compile(r"paused for 15 minutes, until \d\d:\d\d UTC"))

    # The right password is refused too, until the pause is over
    page.get_by_role("link", name="Back to sign in").click()
    page.get_by_label("Username").fill("steward")
    page.get_by_label("Password").fill("steward-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page.locator(".userbox")).to_have_count(0)
