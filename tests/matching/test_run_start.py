"""Starting a full match run (issue 19, item 6): the guards live in ``match_run_full_start``, so
the run button and any other caller get the same refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import MatcherModel, MatchRun, RunStatus
from matching.services.runs import FullRunUnderway, NoModel, match_run_full_start

pytestmark = pytest.mark.django_db


def _active_model() -> MatcherModel:
    return MatcherModel.objects.create(
        settings_blob=b"v1", labels_match=5, labels_distinct=5, training_seconds=1.0, is_active=True
    )


def test_it_refuses_without_an_active_model_and_creates_nothing():
    MatcherModel.objects.create(
        settings_blob=b"old", labels_match=5, labels_distinct=5, training_seconds=1.0, is_active=False
    )

    with pytest.raises(NoModel, match="train the matcher first"):
        match_run_full_start()

    assert not MatchRun.objects.exists()


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_it_refuses_while_a_full_run_is_queued_or_running(status):
    _active_model()
    MatchRun.objects.create(full=True, status=status)

    with pytest.raises(FullRunUnderway, match="already under way"):
        match_run_full_start()

    assert MatchRun.objects.count() == 1


def test_an_incremental_or_finished_run_does_not_stop_a_full_one(django_capture_on_commit_callbacks):
    _active_model()
    MatchRun.objects.create(full=False, status=RunStatus.QUEUED, party_ids=[1])
    MatchRun.objects.create(full=True, status=RunStatus.SUCCEEDED)

    with django_capture_on_commit_callbacks() as callbacks:
        run = match_run_full_start()

    assert (run.full, run.status, run.party_ids) == (True, RunStatus.QUEUED, [])
    assert MatchRun.objects.filter(full=True, status=RunStatus.QUEUED).count() == 1
    assert len(callbacks) == 1  # sent to the workers when the transaction commits


def test_the_run_button_says_what_the_service_refused(role_client):
    client = role_client("steward")
    url = reverse("matching:run_start")

    no_model = client.post(url, follow=True)
    assert "Train the matcher first: there is no model to match with." in no_model.content.decode()
    assert not MatchRun.objects.exists()

    _active_model()
    started = client.post(url)
    run = MatchRun.objects.get()
    assert started.url == reverse("matching:run_detail", args=[run.pk])

    again = client.post(url, follow=True)
    assert "A full match run is already under way." in again.content.decode()
    assert MatchRun.objects.count() == 1
