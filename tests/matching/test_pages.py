"""The run progress page, the runs list and the thresholds page, per role."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from matching.models import MatchRun, MatchSettings
from tests.matching.helpers import trained


@pytest.mark.django_db
def test_run_progress_page_shows_phases_chunks_and_counts(tmp_path, role_client):
    trained(tmp_path, parties=150, seed=6)
    call_command("rematch", "--sync")
    run = MatchRun.objects.get()
    steward = role_client("steward")

    page = steward.get(reverse("matching:run_detail", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="run-status">Succeeded' in html and 'aria-valuenow="100"' in html
    for phase in (
        "Fingerprinting parties into block keys",
        "Scoring candidate pairs",
        "Clustering and saving suggestions",
    ):
        assert phase in html
    assert f"{run.candidate_pairs:,}" in html and 'data-testid="chunks"' in html
    assert "hx-trigger" not in html  # finished: no more polling
    partial = steward.get(reverse("matching:run_detail", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b'id="run-progress"' in partial.content
    assert f"#{run.pk}".encode() in steward.get(reverse("matching:runs")).content

    queued = MatchRun.objects.create(full=True)
    waiting = steward.get(reverse("matching:run_detail", args=[queued.pk])).content.decode()
    assert "Waiting for a worker" in waiting and "every 1s" in waiting
    assert steward.get(reverse("matching:run_detail", args=[999999])).status_code == 404
    assert role_client("marketing").get(reverse("matching:runs")).status_code == 403


@pytest.mark.django_db
def test_thresholds_are_set_by_administrators_with_a_chart(tmp_path, role_client):
    url = reverse("matching:thresholds")
    admin = role_client("administrator")
    assert b"No full match run yet" in admin.get(url).content

    trained(tmp_path, parties=150, seed=6)
    call_command("rematch", "--sync")
    run = MatchRun.objects.get()
    page = admin.get(url).content.decode()
    assert 'data-testid="threshold-chart"' in page and "<rect" in page
    at_half = next(p for p in run.threshold_curve if p["threshold"] == 0.5)
    assert f'≥ 0.5</td><td class="num">{at_half["groups"]:,}' in page

    bad = admin.post(url, {"review_threshold": "0.7", "auto_merge_threshold": "0.6"})
    assert "Must be above the review threshold (0.7)" in bad.content.decode()
    too_low = admin.post(url, {"review_threshold": "0.1", "auto_merge_threshold": ""})
    assert "Must be at least 0.2" in too_low.content.decode()
    assert MatchSettings.current().review_threshold == 0.5  # nothing saved

    saved = admin.post(url, {"review_threshold": "0.6", "auto_merge_threshold": "0.95"}, follow=True)
    assert b"Thresholds saved" in saved.content
    current = MatchSettings.current()
    assert (current.review_threshold, current.auto_merge_threshold) == (0.6, 0.95)
    assert 'class="marker auto"' in saved.content.decode()

    call_command("rematch", "--full", "--sync")
    assert MatchRun.objects.first().threshold == 0.6  # the next run uses the setting

    steward = role_client("steward")
    assert steward.get(url).status_code == 200  # stewards may look
    refused = steward.post(url, {"review_threshold": "0.3"}, follow=True)
    assert b"Only administrators may change the thresholds" in refused.content
    assert MatchSettings.current().review_threshold == 0.6
    assert role_client("marketing").get(url).status_code == 403
