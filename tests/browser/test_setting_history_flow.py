"""An administrator changes a threshold, a survivorship rule, a source system and a segment in a
real browser, and each page then lists the change: who, the value before and after."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consents.services.segments import segment_create
from parties.services.users import demo_users_ensure
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import SourceSystemFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = screenshots_dir()


def _changes(page, shot: str):
    changes = page.get_by_test_id("setting-changes")
    changes.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot), full_page=True)
    return changes


def test_each_settings_page_lists_its_changes(page):
    demo_users_ensure()
    crm = SourceSystemFactory(name="CRM", trust_rank=10, default_region="DE")
    germany = segment_create(name="Germany", filters={"country": "DE"}, user=None)
    sign_in(page, "admin", "admin-demo")

    page.goto("/matching/thresholds/")
    page.get_by_label("Review threshold").fill("0.6")
    page.get_by_role("button", name="Save thresholds").click()
    expect(_changes(page, "thresholds-changes.png").get_by_test_id("setting-change")).to_have_count(1)
    expect(page.get_by_test_id("setting-change")).to_contain_text("admin")

    page.goto("/parties/survivorship/")
    page.get_by_label("Given name").select_option("most_recent")
    page.get_by_role("button", name="Save rules").click()
    expect(_changes(page, "survivorship-changes.png")).to_contain_text("Source trust rank")

    page.goto(f"/parties/sources/{crm.pk}/edit/")
    page.get_by_label("Trust rank").fill("3")
    page.get_by_role("button", name="Save").click()
    page.goto(f"/parties/sources/{crm.pk}/edit/")
    row = _changes(page, "source-changes.png").get_by_test_id("setting-change")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("10")

    page.goto(f"/consents/segments/{germany.pk}/edit/")
    page.get_by_label("Country").fill("AT")
    page.get_by_role("button", name="Save changes").click()
    expect(_changes(page, "segment-changes.png")).to_contain_text("AT")
