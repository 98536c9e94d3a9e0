"""Issue 16, items 1-3 in a real browser: a withdrawal made after a merge survives the
unmerge; a consent form opened before its party was merged changes the survivor and says so;
an erased customer's consents cannot be changed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consents.models import ContactPointTypeConsent
from consents.services.ledger import Actor, consent_set
from parties.models import PartyEvent
from parties.services.merge import party_merge
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in
from tests.factories import EmailFactory, PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _status(party) -> str:
    row = ContactPointTypeConsent.objects.get(party=party, channel="email", purpose__code="newsletter")
    return row.status


def _opted_in_pair():
    survivor = PartyFactory(given_name="René", family_name="Müller", display_name="René Müller")
    other = PartyFactory(given_name="Rene", family_name="Mueller", display_name="Rene Mueller")
    for party in (survivor, other):
        EmailFactory(party=party)
        consent_set(
            party_id=party.pk,
            channel="email",
            purpose="newsletter",
            status="opt_in",
            capture_source="web form",
            actor=Actor(kind="user", label="test"),
        )
    return survivor, other


def test_a_withdrawal_after_the_merge_survives_the_unmerge_in_the_browser(page, tmp_path):
    demo_users_ensure()
    survivor, other = _opted_in_pair()
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    # marketing opens the merged id's page (an old bookmark): the form is the survivor's
    sign_in(page, "marketing", "marketing-demo")
    page.goto(f"/consents/parties/{other.pk}/")
    expect(page.get_by_text(f"Party {other.pk} was merged into party {survivor.pk}")).to_be_visible()
    page.locator("#capture_source").fill("unsubscribe link")
    page.locator("[data-cell='email/newsletter'] select").select_option(label="Opt out")
    page.get_by_test_id("consent-save").click()
    expect(page.get_by_text(re.compile("Email · newsletter: opted out"))).to_be_visible()
    page.context.clear_cookies()

    # a steward undoes the merge from the party's history
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/parties/{survivor.pk}/history/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("unmerge-different").first.click()
    expect(page.get_by_text(re.compile("nmerged|undone", re.I)).first).to_be_visible()
    assert PartyEvent.objects.filter(reverts=merge).exists()
    page.context.clear_cookies()

    # both customers stay opted out, and each page says why
    sign_in(page, "marketing", "marketing-demo")
    for party in (survivor, other):
        page.goto(f"/consents/parties/{party.pk}/")
        expect(page.locator("[data-cell='email/newsletter']")).to_contain_text("Opted out")
    expect(page.get_by_test_id("ledger")).to_contain_text("made after the merge")
    page.screenshot(path=str(tmp_path / "after-unmerge.png"), full_page=True)
    assert (_status(survivor), _status(other)) == ("opt_out", "opt_out")


def test_a_form_opened_before_the_merge_changes_the_survivor_and_says_so(page, tmp_path):
    demo_users_ensure()
    survivor, other = _opted_in_pair()
    sign_in(page, "marketing", "marketing-demo")
    page.goto(f"/consents/parties/{other.pk}/")  # opened while the party was its own
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)  # meanwhile

    page.locator("#capture_source").fill("phone call with the customer")
    page.locator("[data-cell='email/newsletter'] select").select_option(label="Opt out")
    page.get_by_test_id("consent-save").click()

    expect(
        page.get_by_text(f"on party {survivor.pk} (party {other.pk} was merged into party {survivor.pk})")
    ).to_be_visible()
    expect(page.locator("[data-cell='email/newsletter']")).to_contain_text("Opted out")
    assert page.url.endswith(f"/consents/parties/{survivor.pk}/")
    page.screenshot(path=str(tmp_path / "followed.png"), full_page=True)
    assert _status(survivor) == "opt_out"


def test_an_erased_customers_consent_cannot_be_changed_in_the_browser(page):
    from consents.services.erasure import party_erase

    demo_users_ensure()
    party, _ = _opted_in_pair()
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_out",
        capture_source="unsubscribe link",
        actor=Actor(kind="user", label="test"),
    )
    sign_in(page, "marketing", "marketing-demo")
    page.goto(f"/consents/parties/{party.pk}/")  # opened before the erasure
    party_erase(party_id=party.pk, reason="right to be forgotten")

    page.locator("#capture_source").fill("phone")
    page.locator("[data-cell='email/newsletter'] select").select_option(label="Opt in")
    page.get_by_test_id("consent-save").click()

    expect(page.get_by_text(re.compile("Not changed — .*erased"))).to_be_visible()
    assert _status(party) == "opt_out"
