"""A steward trains the matcher in a real browser, answering with the keyboard."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import pytest
from playwright.sync_api import expect

from matching.models import MatcherModel, MatchSuggestion, TrainingLabel
from matching.services.training import label_set
from parties.models import SourceRecord
from parties.services.demo import demo_seed, truth_write
from parties.services.users import demo_users_ensure
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _known_labels(tmp_path) -> None:
    """Ten known duplicates and ten known different customers, as an organization's list."""
    from parties.demo.generator import generate

    truth = tmp_path / "truth.csv"
    truth_write(generate(parties=150, sources=3, duplicate_rate=0.4, seed=9), truth)
    groups = defaultdict(list)
    with truth.open() as handle:
        for row in csv.DictReader(handle):
            groups[row["entity_id"]].append(
                SourceRecord.objects.get(source_system__name=row["source"], source_key=row["source_key"])
            )
    multi = [g for g in groups.values() if len(g) > 1][:10]
    singles = [g[0] for g in groups.values() if len(g) == 1][:20]
    for group in multi:
        label_set(record_a=group[0], record_b=group[1], label="match", origin="file")
    for first, second in zip(singles[::2], singles[1::2], strict=True):
        label_set(record_a=first, record_b=second, label="distinct", origin="file")


def test_a_steward_labels_pairs_with_the_keyboard_and_trains(page, tmp_path):
    demo_users_ensure()
    demo_seed(parties=150, sources=3, duplicate_rate=0.4, seed=9)
    _known_labels(tmp_path)
    before = TrainingLabel.objects.count()

    with celery_worker(tmp_path / "worker.log"):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("steward")
        page.get_by_label("Password").fill("steward-demo")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Train matcher").click()
        expect(page.get_by_test_id("label-counts")).to_have_text("10 same · 10 different")

        # the page asked a worker for questions when it found the queue empty, and shows the
        # first as soon as the worker has queued them (no click, no reload)
        expect(page.get_by_role("button", name=re.compile("Same customer"))).to_be_visible(timeout=60_000)
        for key, counts in (
            ("n", "10 same · 11 different"),
            ("y", "11 same · 11 different"),
            ("u", "11 same · 11 different"),
        ):
            page.wait_for_function("window.trainingKeysReady === true")
            shown = page.locator("input[name=pair]").get_attribute("value")
            page.keyboard.press(key)
            expect(page.locator("input[name=pair]")).not_to_have_value(shown)
            expect(page.get_by_test_id("label-counts")).to_have_text(counts)

        page.get_by_role("button", name="Train now").click()
        expect(page.get_by_text("Training started on a worker")).to_be_visible()
        for _ in range(60):
            if MatcherModel.objects.filter(is_active=True).exists():
                break
            page.wait_for_timeout(1000)
        page.reload()
        expect(page.get_by_test_id("active-model")).to_contain_text("11+11 labels")

        # and the trained matcher's suggestions appear in the merge queue
        page.get_by_role("link", name="Merge queue").click()
        page.get_by_role("button", name="Run matching now").click()
        # the run's own page follows it phase by phase, as the worker's chunks finish
        expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=90_000)
        expect(page.get_by_test_id("run-phase")).to_have_text("Done")
        expect(page.get_by_test_id("phases")).to_contain_text("Scoring candidate pairs")
        page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
        page.get_by_role("link", name="Merge queue").first.click()
        rows = page.get_by_test_id("suggestions").locator("tbody tr")
        expect(rows.first).not_to_contain_text("No pending suggestion")
        expect(rows.first.get_by_test_id("review-link")).to_contain_text("·")  # 2+ parties

        # "Not a match" on the review page: the answer becomes a label, the next one opens
        pending = MatchSuggestion.objects.filter(status="pending").count()
        first = rows.first.get_attribute("data-suggestion")
        rows.first.get_by_test_id("review-link").click()
        page.get_by_test_id("not-a-match").click()
        expect(page.locator(".msg-success").get_by_text("recorded as not a match")).to_be_visible()
        assert not page.url.rstrip("/").endswith(f"/{first}")
        assert MatchSuggestion.objects.filter(status="pending").count() == pending - 1

    assert TrainingLabel.objects.filter(origin="queue", label="distinct").count() >= 1
    assert TrainingLabel.objects.count() >= before + 3  # 3 answers, plus the rejection's labels
    assert MatchSuggestion.objects.filter(status="rejected", decided_by__username="steward").count() == 1
    assert TrainingLabel.objects.filter(origin="training", labelled_by__username="steward").count() == 3
