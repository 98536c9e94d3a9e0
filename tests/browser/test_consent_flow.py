"""Marketing opts a customer out of email newsletters in a real browser; a steward may look
but not change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consents.models import ConsentEvent, ContactPointTypeConsent
from parties.models import ContactPointPhone
from parties.services.users import demo_users_ensure
from tests.browser.a11y import axe_violations
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_finds_a_customer_by_phone_and_opts_them_out_of_newsletters(page, tmp_path):
    shots = screenshots_dir()
    shots.mkdir(parents=True, exist_ok=True)
    demo_users_ensure()
    party = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    ContactPointPhone.objects.create(
        party=party, raw_value="+49 151 23456789", normalized="+4915123456789", country="DE"
    )

    sign_in(page, "marketing", "marketing-demo")
    page.get_by_label("Find a customer").fill("0151 / 234 567 89")  # not as stored
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("link", name="Consents and preferences", exact=True).click()

    cell = page.locator("[data-cell='email/newsletter']")
    expect(cell).to_contain_text("Not seen")
    # two changes the customer asked for in one call, under one capture source
    cell.locator("select").select_option(label="Opt out")
    page.locator("[data-cell='sms/marketing'] select").select_option(label="Opt in")
    expect(page.get_by_test_id("consent-save")).to_have_text("Save 2 changes")
    expect(page.locator("td.consent-changed")).to_have_count(2)
    page.screenshot(path=str(shots / "consents-two-changes.png"), full_page=True)
    page.get_by_test_id("consent-save").click()  # no capture source yet: the browser asks
    expect(page.locator("#capture_source:invalid")).to_have_count(1)
    page.locator("#capture_source").fill("phone call with the customer")
    page.get_by_test_id("consent-save").click()
    expect(
        page.get_by_text(
            re.compile(
                "SMS · marketing: opted in; Email · newsletter: opted out "
                r"\(2 changes"
            )
        )
    ).to_be_visible()  # in the grid's order
    expect(page.locator("[data-cell='email/newsletter']")).to_contain_text("Opted out")
    expect(page.locator("[data-cell='sms/marketing']")).to_contain_text("Opted in")
    ledger = page.get_by_test_id("ledger")
    expect(ledger.locator("tbody tr")).to_have_count(2)
    expect(ledger).to_contain_text("marketing · phone call with the customer")
    page.screenshot(path=str(shots / "consents.png"), full_page=True)

    row = ContactPointTypeConsent.objects.get(party=party, channel="email", purpose__code="newsletter")
    assert row.status == "opt_out" and row.capture_source == "phone call with the customer"
    events = ConsentEvent.objects.order_by("id")
    assert [(e.key, e.actor.username, e.capture_source) for e in events] == [
        ("sms/marketing", "marketing", "phone call with the customer"),
        ("email/newsletter", "marketing", "phone call with the customer"),
    ]


def test_a_steward_sees_the_consents_but_not_the_buttons(page):
    demo_users_ensure()
    party = PartyFactory(given_name="Alan", family_name="Turing", display_name="Alan Turing")
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/consents/parties/{party.pk}/")
    expect(page.get_by_test_id("consent-grid")).to_be_visible()
    expect(page.get_by_role("button", name="Opt out")).to_have_count(0)
    expect(page.locator("select[name=change]")).to_have_count(0)
    expect(page.locator("#capture_source")).to_have_count(0)
    response = page.request.post(
        f"/consents/parties/{party.pk}/consent/",
        form={"set": "email|newsletter|opt_out", "capture_source": "x"},
    )
    assert response.status == 403
    assert not ContactPointTypeConsent.objects.exists()


def test_an_administrator_erases_a_customer_after_confirming(page, tmp_path):
    from parties.models import Party, SourceRecord
    from tests.factories import SourceRecordFactory

    demo_users_ensure()
    party = PartyFactory(given_name="Grace", family_name="Hopper", display_name="Grace Hopper")
    SourceRecordFactory(party=party, source_key="GH-1", raw_payload={"name": "Grace Hopper"})
    ContactPointPhone.objects.create(party=party, raw_value="+1 212 555 0100", normalized="+12125550100")

    sign_in(page, "admin", "admin-demo")
    page.goto(f"/parties/{party.pk}/")
    page.get_by_role("link", name="Erase (right to be forgotten)").click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_label("Request reference").fill("PRIV-77")
    page.get_by_label("Type the party's id to confirm").fill("999999")
    page.get_by_role("button", name=f"Erase party {party.pk}").click()
    expect(page.get_by_text(f"type {party.pk} to confirm the erasure")).to_be_visible()
    page.screenshot(path=str(tmp_path / "erase-form.png"), full_page=True)
    page.get_by_label("Request reference").fill("PRIV-77")
    page.get_by_label("Type the party's id to confirm").fill(str(party.pk))
    page.get_by_role("button", name=f"Erase party {party.pk}").click()

    expect(page.get_by_test_id("erased")).to_contain_text("Erased on request")
    summary = f"Erased party {party.pk}: 1 source record, 0 email addresses, 1 phone number"
    expect(page.get_by_text(re.compile(summary))).to_be_visible()
    expect(page.get_by_role("heading", name="Erased customer")).to_be_visible()
    page.screenshot(path=str(tmp_path / "erased.png"), full_page=True)
    assert Party.objects.get(pk=party.pk).erased_at is not None
    assert SourceRecord.objects.get(party=party).raw_payload == {}


def test_the_consent_grid_a_marketer_changes_has_no_serious_accessibility_violation(page):
    demo_users_ensure()
    party = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    sign_in(page, "marketing", "marketing-demo")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"/consents/parties/{party.pk}/")
    page.locator("[data-cell='email/newsletter'] select").select_option(label="Opt out")
    expect(page.locator("td.consent-changed")).to_have_count(1)
    problems = axe_violations(page)
    assert not problems, "\n".join(problems)
