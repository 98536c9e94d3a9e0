"""A steward works the merge queue in a real browser: merges with the keyboard, lands on the
next suggestion, and undoes the merge from the party's history page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from matching.models import MatchSuggestion
from parties.models import Party, PartyEvent, SourceRecord
from parties.services.users import demo_users_ensure
from tests.matching.helpers import trained

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_steward_merges_with_the_keyboard_and_unmerges_from_the_history(page, tmp_path):
    demo_users_ensure()
    trained(tmp_path, parties=200)
    from django.core.management import call_command

    call_command("rematch", "--full", "--sync")
    assert MatchSuggestion.objects.filter(status="pending").count() >= 2
    records_before = dict(SourceRecord.objects.values_list("pk", "party_id"))

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("steward")
    page.get_by_label("Password").fill("steward-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Merge queue").click()
    expect(page.get_by_test_id("queue-counts")).to_contain_text("pending")
    page.screenshot(path=str(tmp_path / "queue.png"))

    first = page.get_by_test_id("suggestions").locator("tbody tr").first
    suggestion_id = int(first.get_attribute("data-suggestion"))
    members = set(MatchSuggestion.objects.get(pk=suggestion_id).members.values_list("party_id", flat=True))
    first.get_by_test_id("review-link").click()
    expect(page).to_have_url(re.compile(rf"/matching/suggestions/{suggestion_id}/"))
    expect(page.get_by_test_id("preview")).to_contain_text("Golden record after the merge")
    page.screenshot(path=str(tmp_path / "review.png"))

    page.wait_for_function("window.reviewKeysReady === true")
    page.keyboard.press("m")
    merged = re.compile(rf"Suggestion #{suggestion_id}: merged {len(members)} parties")
    expect(page.get_by_text(merged)).to_be_visible()
    # the next suggestion opened directly
    expect(page).to_have_url(re.compile(r"/matching/suggestions/\d+/"))
    assert f"/suggestions/{suggestion_id}/" not in page.url
    expect(page.get_by_test_id("suggestion-status")).to_have_text("Pending")
    assert MatchSuggestion.objects.get(pk=suggestion_id).status == "merged"
    survivor = Party.objects.get(pk__in=members, status="active")
    absorbed = Party.objects.filter(pk__in=members, status="merged", merged_into=survivor)
    assert absorbed.count() == len(members) - 1

    # the merged party's history, and the undo
    page.goto(f"/parties/{survivor.pk}/")
    page.get_by_test_id("history-link").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("Merge")
    expect(history).to_contain_text(f"suggestion #{suggestion_id}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("unmerge-different").click()
    expect(page.get_by_text(re.compile(r"Merge #\d+ undone"))).to_be_visible()
    expect(history.locator("tr[data-kind=unmerge]")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)

    assert Party.objects.filter(pk__in=members, status="active").count() == len(members)
    assert dict(SourceRecord.objects.values_list("pk", "party_id")) == records_before
    assert PartyEvent.objects.filter(kind="unmerge", actor__username="steward").count() == 1
