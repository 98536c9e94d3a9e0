"""A new user's first minutes, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from parties.services.users import demo_users_ensure
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str, password: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_demo_steward_logs_in_finds_a_customer_and_opens_the_record(page):
    demo_users_ensure()
    party = PartyFactory(given_name="Grace", family_name="Hopper", display_name="Grace Hopper")
    EmailFactory(party=party, raw_value="Grace@Navy.mil", normalized="grace@navy.mil")
    SourceRecordFactory(party=party, source_key="CRM-000042")

    _login(page, "steward", "steward-demo")
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()
    expect(page.locator(".userbox")).to_contain_text("Data steward")
    expect(page.get_by_role("link", name="Source systems")).to_be_visible()

    page.get_by_label("Find a customer").fill("grace@navy.mil")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Grace Hopper").click()
    expect(page.get_by_role("heading", name=re.compile("Grace Hopper"))).to_be_visible()
    expect(page.locator("code", has_text="CRM-000042")).to_be_visible()
    expect(page.get_by_text("as received: Grace@Navy.mil")).to_be_visible()


def test_a_wrong_password_says_so_and_marketing_is_refused_source_systems(page):
    demo_users_ensure()
    _login(page, "marketing", "wrong")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")

    page.get_by_label("Password").fill("marketing-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".userbox")).to_contain_text("Marketing")
    expect(page.get_by_role("link", name="Source systems")).to_have_count(0)

    response = page.goto("/parties/sources/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
