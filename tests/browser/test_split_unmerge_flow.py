"""Decisions that keep information, in a real browser: a steward splits a household cluster
into its two people (and the next full run keeps them apart, each merged); undoes a merge
"for now" (and the next run suggests the pair again); and a full run that changes nothing
about an open suggestion leaves it as it is (same id, still pending, mergeable)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from matching.models import MatchSuggestion, PairDecision, SuggestionStatus
from matching.services.review import suggestion_merge
from parties.models import Party, PartyEvent
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in
from tests.matching.helpers import trained
from tests.matching.queue_helpers import suggestion_for
from tests.matching.test_review_signals import customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _shot(page, tmp_path, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _together(a: int, b: int) -> bool:
    return (
        MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING, members__party_id=a)
        .filter(members__party_id=b)
        .exists()
    )


def test_a_steward_splits_a_household_cluster_into_two_people(page, tmp_path):
    demo_users_ensure()
    trained(tmp_path, parties=200)
    rosi = [customer("Rosi", "Trommler", "1961-03-02", email="rosi.trommler@example.de") for _ in range(2)]
    mech = [customer("Mechthilde", "Trommler", "1958-11-20", email="m.trommler@example.de") for _ in range(2)]
    ids = [p.pk for p in (*rosi, *mech)]
    suggestion = suggestion_for(ids, score=0.74)

    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/matching/suggestions/{suggestion.pk}/")
    page.wait_for_function("window.reviewKeysReady === true && window.splitGroupsReady === true")
    page.keyboard.press("g")  # opens "Split into groups", focus on the first party
    expect(page.get_by_test_id("split-table")).to_be_visible()
    page.keyboard.press("a")
    page.keyboard.press("a")
    page.keyboard.press("b")
    page.keyboard.press("b")
    summary = page.get_by_test_id("split-summary")
    expect(summary).to_contain_text(f"Group A: #{ids[0]}, #{ids[1]} (merged)")
    expect(summary).to_contain_text(f"Group B: #{ids[2]}, #{ids[3]} (merged)")
    _shot(page, tmp_path, "split-groups.png")
    page.get_by_test_id("split-submit").click()
    done = re.compile(rf"Suggestion #{suggestion.pk} split into 2 groups: 2 merged")
    expect(page.get_by_text(done)).to_be_visible()

    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.SPLIT
    rosi_now = Party.objects.get(pk__in=ids[:2], status="active")
    mech_now = Party.objects.get(pk__in=ids[2:], status="active")
    assert PairDecision.objects.filter(decision="rejected", is_active=True).count() == 4

    call_command("rematch", "--full", "--sync")

    # each group stays one party, and the two people are not suggested together again
    assert Party.objects.filter(pk__in=ids, status="active").count() == 2
    assert Party.objects.get(pk__in=ids[:2], status="merged").merged_into_id == rosi_now.pk
    assert Party.objects.get(pk__in=ids[2:], status="merged").merged_into_id == mech_now.pk
    assert not _together(rosi_now.pk, mech_now.pk)
    page.goto(f"/matching/suggestions/{suggestion.pk}/")
    expect(page.get_by_test_id("suggestion-status")).to_have_text("Split into groups")
    _shot(page, tmp_path, "split-after.png")


def test_undo_for_now_lets_the_next_run_suggest_the_pair_again(page, tmp_path):
    demo_users_ensure()
    trained(tmp_path, parties=200)
    call_command("rematch", "--full", "--sync")
    suggestion = next(
        s
        for s in MatchSuggestion.objects.filter(status="pending").order_by("-score")
        if s.members.count() == 2
    )
    a, b = sorted(suggestion.members.values_list("party_id", flat=True))
    merged = suggestion_merge(suggestion_id=suggestion.pk, user=None, survivor_id=a)

    sign_in(page, "steward", "steward-demo")
    page.goto(f"/parties/{a}/history/")
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator(f'tr[data-event="{merged.event.pk}"]')
    expect(row.get_by_test_id("unmerge-different")).to_be_visible()
    _shot(page, tmp_path, "unmerge-choice.png")
    row.get_by_test_id("unmerge-undo").click()
    expect(page.get_by_text(re.compile(r"the next match run may suggest them together"))).to_be_visible()
    expect(page.get_by_test_id("unmerge-why")).to_contain_text("undone for now")
    _shot(page, tmp_path, "unmerge-undone.png")

    assert Party.objects.filter(pk__in=[a, b], status="active").count() == 2
    assert not PairDecision.objects.filter(party_a_id=a, party_b_id=b, decision="rejected").exists()
    assert PartyEvent.objects.get(kind="unmerge").changes["different_customers"] is False
    page.goto(f"/matching/suggestions/{suggestion.pk}/")
    expect(page.get_by_test_id("suggestion-status")).to_have_text("Merged, then undone")

    call_command("rematch", "--full", "--sync")

    assert _together(a, b)  # suggested again, as a new suggestion
    again = MatchSuggestion.objects.filter(status="pending", members__party_id=a).get(members__party_id=b)
    assert again.pk != suggestion.pk


def test_an_open_suggestion_keeps_its_id_across_an_unrelated_full_run(page, tmp_path):
    demo_users_ensure()
    trained(tmp_path, parties=200)
    call_command("rematch", "--full", "--sync")
    pending = set(MatchSuggestion.objects.filter(status="pending").values_list("pk", flat=True))
    suggestion = MatchSuggestion.objects.filter(status="pending").order_by("-score", "id").first()
    members = set(suggestion.members.values_list("party_id", flat=True))

    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/matching/suggestions/{suggestion.pk}/")  # the steward's review is open
    expect(page.get_by_test_id("suggestion-status")).to_have_text("Pending")
    assert MatchSuggestion.objects.get(pk=suggestion.pk).claimed_by.username == "steward"

    call_command("rematch", "--full", "--sync")  # someone starts a full run meanwhile

    assert set(MatchSuggestion.objects.filter(status="pending").values_list("pk", flat=True)) == pending
    kept = MatchSuggestion.objects.get(pk=suggestion.pk)
    assert kept.status == "pending" and kept.claimed_by.username == "steward"
    assert kept.run_id == MatchSuggestion.objects.order_by("-run_id").first().run_id
    # the open page still decides: the merge goes through, no "superseded"
    page.wait_for_function("window.reviewKeysReady === true")
    page.keyboard.press("m")
    merged = re.compile(rf"Suggestion #{suggestion.pk}: merged {len(members)} parties")
    expect(page.get_by_text(merged)).to_be_visible()
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == "merged"
    _shot(page, tmp_path, "kept-id-merged.png")
