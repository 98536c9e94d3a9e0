"""Marketing opts a customer out of email newsletters in a real browser; a steward may look
but not change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consents.models import ConsentEvent, ContactPointTypeConsent
from parties.models import ContactPointPhone
from parties.services.users import demo_users_ensure
from tests.factories import PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_marketing_finds_a_customer_by_phone_and_opts_them_out_of_newsletters(page, tmp_path):
    demo_users_ensure()
    party = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    ContactPointPhone.objects.create(party=party, raw_value="+49 151 23456789", normalized="+4915123456789",
                                     country="DE")

    _login(page, "marketing", "marketing-demo")
    page.get_by_placeholder("Find a customer…").fill("0151 / 234 567 89")  # not as stored
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("link", name="Consents and preferences").click()

    cell = page.locator("[data-cell='email/newsletter']")
    expect(cell).to_contain_text("Not seen")
    cell.get_by_role("button", name="Opt out").click()  # no capture source yet: the browser asks
    expect(page.locator("#capture_source:invalid")).to_have_count(1)
    page.locator("#capture_source").fill("phone call with the customer")
    cell.get_by_role("button", name="Opt out").click()
    expect(page.get_by_text(re.compile("Email · newsletter: opted out"))).to_be_visible()
    expect(page.locator("[data-cell='email/newsletter']")).to_contain_text("Opted out")
    ledger = page.get_by_test_id("ledger")
    expect(ledger).to_contain_text("email/newsletter")
    expect(ledger).to_contain_text("marketing · phone call with the customer")
    page.screenshot(path=str(tmp_path / "consents.png"), full_page=True)

    row = ContactPointTypeConsent.objects.get(party=party, channel="email", purpose__code="newsletter")
    assert row.status == "opt_out" and row.capture_source == "phone call with the customer"
    assert ConsentEvent.objects.get().actor.username == "marketing"


def test_a_steward_sees_the_consents_but_not_the_buttons(page):
    demo_users_ensure()
    party = PartyFactory(given_name="Alan", family_name="Turing", display_name="Alan Turing")
    _login(page, "steward", "steward-demo")
    page.goto(f"/consents/parties/{party.pk}/")
    expect(page.get_by_test_id("consent-grid")).to_be_visible()
    expect(page.get_by_role("button", name="Opt out")).to_have_count(0)
    expect(page.locator("#capture_source")).to_have_count(0)
    response = page.request.post(f"/consents/parties/{party.pk}/consent/",
                                 form={"set": "email|newsletter|opt_out", "capture_source": "x"})
    assert response.status == 403
    assert not ContactPointTypeConsent.objects.exists()
