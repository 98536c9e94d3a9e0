"""Accessibility in a real browser (issue 18, item 10): axe-core finds no serious or critical
violation (contrast of 4.5:1 included) on the queue, review, party, consent and thresholds
pages; a skip link is the first stop of the keyboard; focus is visible; the administrator's
top bar is one row at 1366 px; the queue is usable at 420 px (screenshot queue-420.png in
C360_SCREENSHOTS, else var/screenshots)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consents.services.ledger import Actor, consent_set
from parties.models import ContactPointAddress, Gender
from parties.services.golden import party_golden_refresh
from parties.services.users import demo_users_ensure
from tests.browser.a11y import axe_violations
from tests.browser.helpers import screenshots_dir, sign_in
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, tmp_path, name: str, full_page: bool = False) -> str:
    path = f"{screenshots_dir()}/{name}.png"
    page.screenshot(path=path, full_page=full_page)
    return path


@pytest.fixture
def cluster():
    """Given a three-party suggestion whose customer has a US address, an opt-in
    and an opt-out (green and red badges on every page), and a non-binary golden gender."""
    demo_users_ensure()
    c = customer_copies()
    record = c.crm.source_records.get()
    record.standardized["attributes"]["gender"] = Gender.NON_BINARY
    record.save()
    party_golden_refresh(party_id=c.crm.pk)
    ContactPointAddress.objects.create(
        party=c.crm, line1="12 Main St", postal_code="37293", city="Nashville", region="Tn", country="US"
    )
    actor = Actor(label="test")
    consent_set(
        party_id=c.crm.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="web form",
        actor=actor,
    )
    consent_set(
        party_id=c.crm.pk,
        channel="sms",
        purpose="marketing",
        status="opt_out",
        capture_source="store",
        actor=actor,
    )
    suggestion = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk], score=0.91)
    suggestion_for([c.employer.pk, c.shop.pk], score=0.6)
    return c, suggestion


def test_no_serious_accessibility_violation_on_the_stewards_pages(page, cluster):
    c, suggestion = cluster
    sign_in(page, "steward", "steward-demo")
    page.set_viewport_size({"width": 1366, "height": 768})
    problems = []
    for path in (
        "/",
        "/matching/suggestions/",
        f"/matching/suggestions/{suggestion.pk}/",
        f"/parties/{c.crm.pk}/",
        f"/consents/parties/{c.crm.pk}/",
        "/matching/thresholds/",
    ):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        problems += axe_violations(page)
    assert not problems, "\n".join(problems)


def test_the_party_and_consent_pages_speak_in_words_not_codes(page, cluster):
    c, _ = cluster
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/parties/{c.crm.pk}/")
    golden = page.get_by_test_id("golden")
    expect(golden).to_contain_text("Non-binary")
    expect(golden).not_to_contain_text("non_binary")
    expect(page.locator(".contacts")).to_contain_text("12 Main St, Nashville, TN 37293, United States")
    page.goto(f"/consents/parties/{c.crm.pk}/")
    ledger = page.get_by_test_id("ledger")
    expect(ledger).to_contain_text("Email · Newsletter")
    expect(ledger).to_contain_text("Not seen → Opted in")
    expect(ledger).not_to_contain_text("opt_in")
    page.goto("/matching/suggestions/")
    expect(page.get_by_test_id("suggestions")).not_to_contain_text("given_name")


def test_keyboard_users_skip_to_the_content_and_always_see_where_the_focus_is(page, cluster):
    sign_in(page, "steward", "steward-demo")
    page.goto("/matching/suggestions/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # the next stops show a focus ring (an outline that is not 'none')
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                                           return [s.outlineStyle, s.outlineWidth]; }""")
        assert outline[0] != "none" and outline[1] != "0px", (
            page.evaluate("document.activeElement.outerHTML.slice(0, 120)"),
            outline,
        )


def test_the_administrators_top_bar_is_one_row_at_1366_px(page, cluster, tmp_path):
    sign_in(page, "admin", "admin-demo")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/matching/suggestions/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Source systems")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_be_visible()
    tops = page.evaluate("""() => ['.brand', '.mainnav', '.topsearch', '.userbox'].map(
        (s) => Math.round(document.querySelector(s).getBoundingClientRect().top))""")
    links = page.evaluate("""() => [...document.querySelectorAll('.mainnav a')].map(
        (a) => Math.round(a.getBoundingClientRect().top))""")
    assert len(set(links)) == 1, links
    assert max(tops) - min(tops) <= 8, tops
    assert page.locator(".topbar").bounding_box()["height"] < 60
    _shot(page, tmp_path, "topbar-admin-1366")


def test_the_queue_at_420_px(page, cluster, tmp_path):
    sign_in(page, "steward", "steward-demo")
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto("/matching/suggestions/")
    expect(page.get_by_role("heading", name="Merge queue")).to_be_visible()
    # the menu folds away behind its button, and opens
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.locator(".nav-toggle-label").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.locator(".nav-toggle-label").click()
    # the page itself never scrolls sideways; the table scrolls in its card
    _shot(page, tmp_path, "queue-420", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    expect(page.get_by_test_id("review-link").first).to_be_visible()
    assert not axe_violations(page)
