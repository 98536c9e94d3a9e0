"""An administrator reads a run's blocking rules in a real browser and switches a rule back on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from matching.models import MatchRun, MatchSettings
from matching.services.blocking import match_settings_rules_set
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in
from tests.matching.helpers import trained

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_the_run_page_lists_the_rules_and_an_administrator_switches_one_on(page, tmp_path, settings):
    # given: a trained matcher, "same given name and birth date" switched off, blocks of more
    # than 3 parties left out, and a full run
    demo_users_ensure()
    trained(tmp_path, parties=200)
    match_settings_rules_set(codes_off=["gb"], user=None)
    settings.C360_MATCHING_MAX_BLOCK = 3
    call_command("rematch", "--full", "--sync")
    run = MatchRun.objects.get(status="succeeded")
    assert run.rules["learned"] and run.rules["labelled"]["compared"] == 25

    # when: the administrator opens the run from the list, at a laptop's screen size
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "admin", "admin-demo")
    page.goto("/matching/runs/")
    page.get_by_role("link", name=f"#{run.pk}").first.click()

    # then: every rule in use with its figures, the one switched off, the blocks left out
    rules = page.get_by_test_id("rules-table")
    expect(rules).to_be_visible()
    email = page.get_by_test_id("rule-e")
    expect(email).to_contain_text("Same email address")
    expect(email).to_contain_text(re.compile(r"\d+ of 25"))
    expect(page.get_by_test_id("rule-gb")).to_contain_text("switched off")
    expect(page.get_by_test_id("learned-0")).to_contain_text(run.rules["learned"][0]["label"])
    expect(page.get_by_test_id("rules-coverage")).to_contain_text(
        f"Together the rules cover {run.rules['labelled']['covered']} of 25 labelled matches"
    )
    if any(row["oversized"] for row in run.rules["standard"] + run.rules["learned"]):
        expect(rules.get_by_test_id("left-out").first).to_contain_text("of more than 3 parties left out")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    rules.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "run-rules.png"))
    page.screenshot(path=str(SCREENSHOTS / "run-rules-full.png"), full_page=True)

    # when: the administrator follows the link to the settings and switches the rule back on
    page.get_by_role("link", name="thresholds page").click()
    box = page.get_by_label("Same given name and birth date")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Save blocking rules").click()

    # then: saved, for the next run
    expect(page.get_by_text("Blocking rules saved: every standard rule is on")).to_be_visible()
    expect(page.get_by_label("Same given name and birth date")).to_be_checked()
    assert MatchSettings.current().rules_off == []
    page.screenshot(path=str(SCREENSHOTS / "thresholds-rules.png"), full_page=True)
