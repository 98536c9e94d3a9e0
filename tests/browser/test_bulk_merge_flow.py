"""A steward merges every suggestion above a score and watches a worker do it (issue 18, item 16:
270 suggestions took 36 s inside one request with nothing shown meanwhile)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from matching.models import BulkMergeJob, MatchSuggestion
from parties.models import Party
from parties.services.users import demo_users_ensure
from tests.browser.helpers import sign_in
from tests.factories import PartyFactory
from tests.matching.queue_helpers import suggestion_for
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SUGGESTIONS = 150


def test_a_bulk_merge_shows_its_progress_while_a_worker_merges(page, tmp_path):
    demo_users_ensure()
    for i in range(SUGGESTIONS):
        suggestion_for([PartyFactory().pk, PartyFactory().pk], score=0.99 - i / 10_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 768})

    sign_in(page, "steward", "steward-demo")
    page.goto("/matching/suggestions/")
    page.get_by_label("or all scoring ≥").fill("0.95")
    page.get_by_role("button", name="Merge all above…").click()
    expect(page.get_by_test_id("bulk-confirm")).to_contain_text(f"{SUGGESTIONS} parties will merge")

    with celery_worker(tmp_path / "worker.log"):
        page.get_by_role("button", name=f"Merge {SUGGESTIONS} parties").click()
        expect(page).to_have_url(re.compile(r"/matching/suggestions/bulk/\d+/"))
        # the block polls the job every second: a part done, neither nothing nor everything
        seen = []
        for _ in range(120):
            text = page.get_by_test_id("bulk-done").inner_text()
            seen.append(text)
            done = int(text.split(" of ")[0].replace(",", ""))
            if 0 < done < SUGGESTIONS:
                break
            page.wait_for_timeout(250)
        assert 0 < done < SUGGESTIONS, seen
        expect(page.get_by_test_id("bulk-status")).to_have_text("Running")
        page.screenshot(path=str(SHOTS / "bulk-merge-running.png"))
        expect(page.get_by_test_id("bulk-status")).to_have_text("Done", timeout=120_000)

    # the finished page (reloaded once by the polled block) says what happened
    expect(page.get_by_test_id("bulk-done")).to_have_text(f"{SUGGESTIONS} of {SUGGESTIONS} suggestions")
    expect(page.get_by_test_id("bulk-merged")).to_have_text(str(SUGGESTIONS))
    expect(page.get_by_test_id("bulk-refusals")).to_contain_text("every suggestion was merged")
    page.screenshot(path=str(SHOTS / "bulk-merge-done.png"))
    job = BulkMergeJob.objects.get()
    assert (job.status, job.merged, job.parties_merged) == ("succeeded", SUGGESTIONS, SUGGESTIONS)
    assert not MatchSuggestion.objects.filter(status="pending").exists()
    assert Party.objects.filter(status="merged").count() == SUGGESTIONS
