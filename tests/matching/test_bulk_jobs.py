"""Bulk merges run on a worker as jobs, with live progress (issue 18, item 16: 270 suggestions
merged in 36 s inside one request, nothing shown meanwhile)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from matching.models import BulkJobStatus, BulkMergeJob, MatchSuggestion, SuggestionStatus
from matching.services import bulk as bulk_module
from matching.services.bulk import bulk_merge_job_create, bulk_merge_job_run
from parties.models import Party, PartyEvent
from tests.factories import PartyFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def _pairs(n: int) -> list[MatchSuggestion]:
    return [suggestion_for([PartyFactory().pk, PartyFactory().pk], score=0.99 - i / 100) for i in range(n)]


def test_a_bulk_merge_job_counts_each_suggestion_as_it_merges(
    monkeypatch, django_capture_on_commit_callbacks
):
    # Given three suggestions and one overlapping the first (it cannot merge after it)
    c = customer_copies()
    first = suggestion_for([c.crm.pk, c.shop.pk])
    overlapping = suggestion_for([c.shop.pk, c.pos.pk])
    others = _pairs(2)
    ids = [first.pk, overlapping.pk, *(s.pk for s in others)]
    with django_capture_on_commit_callbacks() as callbacks:
        job = bulk_merge_job_create(suggestion_ids=ids, user=None, scope="the selected suggestions")
    assert len(callbacks) == 1  # sent to a worker when the request commits
    assert (job.status, job.total, job.done) == (BulkJobStatus.QUEUED, 4, 0)

    # When the worker runs it, the job's row is what the page reads before each merge
    seen = []
    merge = bulk_module.suggestion_merge

    def watching(**kwargs):
        row = BulkMergeJob.objects.get(pk=job.pk)
        seen.append((row.status, row.done, row.merged, row.parties_merged, len(row.refused)))
        return merge(**kwargs)

    monkeypatch.setattr(bulk_module, "suggestion_merge", watching)
    done = bulk_merge_job_run(job_id=job.pk)

    # Then its counters moved one suggestion at a time, each committed with its merge
    assert seen == [
        ("running", 0, 0, 0, 0),
        ("running", 1, 1, 1, 0),
        ("running", 2, 1, 1, 1),
        ("running", 3, 2, 2, 1),
    ]
    assert (done.status, done.done, done.merged, done.parties_merged, done.skipped) == (
        BulkJobStatus.SUCCEEDED,
        4,
        3,
        3,
        1,
    )
    assert done.refused[0].startswith(f"#{overlapping.pk}: ")
    assert done.started_at and done.finished_at
    assert MatchSuggestion.objects.get(pk=overlapping.pk).status != SuggestionStatus.MERGED
    assert PartyEvent.objects.filter(kind="merge").count() == 3
    assert Party.objects.filter(status="merged").count() == 3


def test_a_resumed_job_continues_after_the_last_suggestion_it_handled_and_runs_once():
    # Given a job whose worker died after it merged the first of three suggestions
    suggestions = _pairs(3)
    job = bulk_merge_job_create(suggestion_ids=[s.pk for s in suggestions])
    BulkMergeJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.RUNNING)
    from matching.services.review import suggestion_merge

    suggestion_merge(suggestion_id=suggestions[0].pk)
    BulkMergeJob.objects.filter(pk=job.pk).update(done=1, merged=1, parties_merged=1)

    # When it is sent again, twice (the recovery, then a late copy of the message)
    first = bulk_merge_job_run(job_id=job.pk)
    second = bulk_merge_job_run(job_id=job.pk)

    # Then it merged the two left, nothing twice, and nothing was refused
    assert (first.status, first.done, first.merged, first.refused) == (BulkJobStatus.SUCCEEDED, 3, 3, [])
    assert (second.done, second.merged, second.finished_at) == (3, 3, first.finished_at)
    assert PartyEvent.objects.filter(kind="merge").count() == 3


def test_a_job_that_breaks_says_so_and_keeps_what_it_merged(monkeypatch):
    suggestions = _pairs(2)
    job = bulk_merge_job_create(suggestion_ids=[s.pk for s in suggestions])
    merge = bulk_module.suggestion_merge
    calls = []

    def breaking(**kwargs):
        calls.append(kwargs["suggestion_id"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return merge(**kwargs)

    monkeypatch.setattr(bulk_module, "suggestion_merge", breaking)
    with pytest.raises(RuntimeError):
        bulk_merge_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.merged) == (BulkJobStatus.FAILED, 1, 1)
    assert "RuntimeError: disk full" in job.error and "still pending" in job.error
    assert MatchSuggestion.objects.get(pk=suggestions[1].pk).status == SuggestionStatus.PENDING


def test_the_steward_confirms_a_bulk_merge_and_follows_it_on_its_page(
    role_client, django_capture_on_commit_callbacks
):
    suggestions = _pairs(3)
    client = role_client("steward")
    url = reverse("matching:queue_bulk_merge")

    # When the steward confirms "every suggestion scoring 0.90 or more"
    shown = client.post(url, {"scope": "above", "score_at_least": "0.9"}).context["shown"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            url, {"scope": "above", "score_at_least": "0.9", "confirm": "yes", "shown": shown}
        )
    job = BulkMergeJob.objects.get()

    # Then nothing merged in the request: a worker is asked, the job's page polls its progress
    assert len(callbacks) == 1
    assert response["Location"] == reverse("matching:bulk_job", args=[job.pk])
    assert not PartyEvent.objects.exists()
    assert job.scope == "every pending suggestion scoring 0.90 or more"
    assert job.suggestion_ids == [s.pk for s in suggestions]
    page = client.get(response["Location"]).content.decode()
    assert "0 of 3 suggestions" in page and 'hx-trigger="every 1s"' in page
    assert "Waiting for a worker" in page

    # and once the worker is done, the polled block asks for the full page, which lists the result
    bulk_merge_job_run(job_id=job.pk)
    polled = client.get(response["Location"], headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"
    page = client.get(response["Location"]).content.decode()
    assert "3 of 3 suggestions" in page and "every 1s" not in page
    assert 'data-testid="bulk-merged">3<' in page and "every suggestion was merged" in page


def test_who_may_start_and_see_bulk_merges(role_client):
    suggestions = _pairs(1)
    job = bulk_merge_job_create(suggestion_ids=[suggestions[0].pk])
    url = reverse("matching:queue_bulk_merge")
    refused = role_client("marketing").post(url, {"selected": [suggestions[0].pk], "confirm": "yes"})
    assert refused.status_code == 403 and BulkMergeJob.objects.count() == 1
    assert role_client("marketing").get(reverse("matching:bulk_job", args=[job.pk])).status_code == 403
    assert role_client("steward").get(reverse("matching:bulk_job", args=[999999])).status_code == 404
    with pytest.raises(ValueError, match="nothing to merge"):
        bulk_merge_job_create(suggestion_ids=[])


def test_the_queue_links_the_bulk_merges_running_or_just_finished(role_client):
    suggestions = _pairs(2)
    running = bulk_merge_job_create(suggestion_ids=[suggestions[0].pk])
    BulkMergeJob.objects.filter(pk=running.pk).update(status=BulkJobStatus.RUNNING, done=0)
    done = bulk_merge_job_create(suggestion_ids=[suggestions[1].pk])
    bulk_merge_job_run(job_id=done.pk)
    old = bulk_merge_job_create(suggestion_ids=[suggestions[1].pk])
    BulkMergeJob.objects.filter(pk=old.pk).update(
        status=BulkJobStatus.SUCCEEDED, finished_at=timezone.now() - timedelta(hours=2)
    )

    page = role_client("steward").get(reverse("matching:suggestions")).content.decode()
    strip = page[page.index('data-testid="bulk-merges"') :]
    strip = strip[: strip.index("</div>")]
    assert f'href="{reverse("matching:bulk_job", args=[running.pk])}"' in strip and "0 of 1" in strip
    assert f"Bulk merge #{done.pk}</a>" in strip and "1 merged" in strip
    assert f"Bulk merge #{old.pk}<" not in strip


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_bulk_merge_job_whose_worker_died_is_finished_by_the_next_worker(role_groups, tmp_path):
    from django.conf import settings

    from c360.kernel.models import TaskLease
    from tests.test_job_recovery import _dead_process_identity, _lease, _wait
    from tests.workers import celery_worker

    # Given a job whose worker died after merging the first of three suggestions (its lease names
    # a process of this machine that no longer exists; no broker sends the task again)
    suggestions = _pairs(3)
    job = bulk_merge_job_create(suggestion_ids=[s.pk for s in suggestions])
    BulkMergeJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.RUNNING, started_at=timezone.now())
    from matching.services.review import suggestion_merge

    suggestion_merge(suggestion_id=suggestions[0].pk)
    BulkMergeJob.objects.filter(pk=job.pk).update(done=1, merged=1, parties_merged=1)
    lease = _lease(
        name="matching.bulk_merge_job",
        args=[job.pk],
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        owner=_dead_process_identity(),
        heartbeat_at=timezone.now(),
        attempts=1,
    )

    # When a worker starts, it sends the job again and the job continues where it stopped
    with celery_worker(tmp_path / "worker.log"):
        assert _wait(lambda: not TaskLease.objects.filter(pk=lease.pk).exists(), 50)
    job.refresh_from_db()
    assert (job.status, job.done, job.merged, job.refused) == (BulkJobStatus.SUCCEEDED, 3, 3, [])
    assert PartyEvent.objects.filter(kind="merge").count() == 3
