"""A steward finds a customer by a misspelled name from the search box, opens the 360 page,
filters the timeline to orders, and follows a household link; the dashboard draws its charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from parties.models import ContactPointAddress, Engagement, PartyRelationship
from parties.services.users import demo_users_ensure
from tests.browser.helpers import screenshots_dir
from tests.factories import PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, tmp_path, name: str) -> None:
    folder = str(screenshots_dir())
    page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _household():
    john = PartyFactory(
        given_name="John", family_name="Smith", display_name="John Smith", birth_date=dt.date(1978, 2, 3)
    )
    jane = PartyFactory(given_name="Jane", family_name="Smith", display_name="Jane Smith")
    for i in range(12):
        PartyFactory(display_name=f"Johanna Smithson {i}")
    for party in (john, jane):
        ContactPointAddress.objects.create(
            party=party,
            line1="1 Elm Street",
            postal_code="02139",
            city="Cambridge",
            country="US",
            is_primary=True,
            normalized="1 elm street|02139|cambridge|us",
        )
    PartyRelationship.objects.create(from_party=john, to_party=jane, kind="household_member")
    now = timezone.now()
    Engagement.objects.bulk_create(
        [
            Engagement(
                party=john,
                engagement_type="order",
                occurred_at=now - dt.timedelta(days=i),
                amount=Decimal("25.00"),
                currency="USD",
                external_id=f"ORD-{i}",
                status="delivered",
            )
            for i in range(8)
        ]
        + [
            Engagement(
                party=john,
                engagement_type="web_visit",
                occurred_at=now - dt.timedelta(hours=i),
                external_id=f"VIS-{i}",
            )
            for i in range(70)
        ]
    )
    return john, jane


def test_a_steward_finds_a_misspelled_customer_and_walks_the_360_page(page, tmp_path):
    demo_users_ensure()
    john, jane = _household()

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("steward")
    page.get_by_label("Password").fill("steward-demo")
    page.get_by_role("button", name="Sign in").click()

    box = page.get_by_test_id("search-box")
    box.fill("Jonh Smiht")
    box.press("Enter")
    results = page.get_by_test_id("search-results")
    expect(results.get_by_test_id("search-hit").first).to_contain_text("John Smith")
    expect(results.get_by_test_id("search-hit").first).to_contain_text("1978")
    _shot(page, tmp_path, "search")
    results.get_by_role("link", name="John Smith").click()
    expect(page).to_have_url(re.compile(rf"/parties/{john.pk}/$"))

    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("200.00 USD")
    expect(totals).to_contain_text("8")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("engagement")).to_have_count(50)  # the first page of 78
    page.get_by_test_id("timeline-filters").get_by_role("link", name=re.compile("^Order")).click()
    expect(page.locator("#timeline [data-testid=engagement]")).to_have_count(8)
    expect(page.locator("#timeline [data-testid=engagement][data-type=web_visit]")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?type=order"))
    _shot(page, tmp_path, "party-orders")

    page.get_by_role("link", name="Jane Smith").click()
    expect(page).to_have_url(re.compile(rf"/parties/{jane.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jane Smith")
    expect(page.get_by_role("link", name="John Smith")).to_be_visible()  # and back again


def test_the_dashboard_draws_its_charts(page, tmp_path):
    from django.core.management import call_command

    demo_users_ensure()
    _household()
    call_command("dashboard_refresh")

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-demo")
    page.get_by_role("button", name="Sign in").click()
    charts = page.locator("[data-testid^=chart-]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 4
    drawn = [
        charts.nth(i).evaluate(
            "e => [e.getAttribute('data-testid'), e.tagName.toLowerCase(), "
            "e.querySelectorAll('rect, path, line').length, "
            "e.getBoundingClientRect().height]"
        )
        for i in range(charts.count())
    ]
    svgs = [name for name, tag, shapes, height in drawn if tag == "svg" and shapes > 0 and height > 20]
    assert len(svgs) >= 3, drawn
    expect(page.get_by_test_id("figures-as-of")).to_be_visible()
    _shot(page, tmp_path, "dashboard")
