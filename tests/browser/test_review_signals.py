"""A steward opens a suggestion in a real browser and sees why the matcher made it: Bob is
a nickname of Robert, and Rosi, at the same address, is another person of the household."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from matching.models import MatchSuggestionMember
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in
from tests.matching.helpers import trained
from tests.matching.queue_helpers import suggestion_for
from tests.matching.test_review_signals import customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_the_review_page_says_why_and_warns_of_a_household(page, tmp_path):
    demo_users_ensure()
    trained(tmp_path, parties=200)  # an active model: the suggestion stores each level's weight
    robert = customer("Robert", "Trommler", "1962-08-14", email="r.trommler@example.de")
    bob = customer("Bob", "Trommler", "1962-08-14", email="r.trommler@example.de")
    rosi = customer("Rosi", "Trommler", "1991-03-02")
    suggestion = suggestion_for([robert.pk, bob.pk, rosi.pk])
    for party, score in ((robert, 0.97), (bob, 0.96), (rosi, 0.61)):  # the page's column order
        MatchSuggestionMember.objects.filter(suggestion=suggestion, party=party).update(score=score)

    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/matching/suggestions/{suggestion.pk}/")

    why = page.get_by_test_id("why")
    expect(why.get_by_role("heading", name="Why the matcher suggests this")).to_be_visible()
    bob_pair = why.locator(f'[data-testid="why-pair"][data-party="{bob.pk}"]')
    expect(bob_pair.get_by_test_id("why-signal")).to_have_text(["nickname (given names)"])
    expect(bob_pair).to_contain_text("Given name: nickname (+")
    expect(bob_pair.get_by_test_id("why-household")).to_have_count(0)
    rosi_pair = why.locator(f'[data-testid="why-pair"][data-party="{rosi.pk}"]')
    expect(rosi_pair.get_by_test_id("why-household")).to_contain_text("Household: probably two people")
    expect(rosi_pair.get_by_test_id("why-household")).to_contain_text("(\u2212")
    expect(page.get_by_test_id("household-warning")).to_contain_text(f"Rosi Trommler #{rosi.pk}")
    # the rest of the page still works: the preview and the decision buttons are there
    expect(page.get_by_test_id("preview")).to_contain_text("Golden record after the merge")
    expect(page.get_by_test_id("merge")).to_be_visible()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-why.png"))
    page.screenshot(path=str(SCREENSHOTS / "review-why-full.png"), full_page=True)
