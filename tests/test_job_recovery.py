"""Jobs resume by themselves when their worker dies (issue 16, item 14: a worker killed with
``kill -9`` mid-import left the job "running" until someone retried it by hand after a
two-minute wait; no broker delivered the task again). On the embedded filesystem broker and on
Redis, with SQLite and with PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from c360.kernel.durable import process_gone, process_identity, tasks_recover
from c360.kernel.models import TaskLease
from parties.models import ContactPointEmail, ImportJob, ImportStatus, Party, SourceRecord
from tests.factories import SourceSystemFactory
from tests.parties.imports.test_jobs import _queued_job, _rows  # the same file and queued job
from tests.workers import celery_worker

ROWS = 10_000  # five batches: the worker dies after the first, the next one does the rest


def _wait(predicate, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False


@pytest.fixture
def media_for_workers(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))  # the worker processes' too
    return settings.MEDIA_ROOT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_finishes_by_itself_with_each_row_once(
    role_groups, media_for_workers, tmp_path
):
    # Given a large file being imported by a real worker process
    source = SourceSystemFactory(name="Big CRM")
    job = _queued_job(source, _rows(ROWS))
    with celery_worker(tmp_path / "first.log") as worker:
        from parties.tasks import import_job_run_task

        import_job_run_task.delay(job.pk)
        assert _wait(lambda: ImportJob.objects.get(pk=job.pk).rows_read >= 2000, 60)

        # When the worker is killed (SIGKILL: no chance to say anything) in the middle of it
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and 0 < job.rows_read < ROWS, job.rows_read
    assert TaskLease.objects.get().owner  # the dead worker's lease

    # Then a worker that starts takes the job over at once (no two-minute wait, no retry by
    # hand) and finishes it from its last committed batch
    started = time.monotonic()
    with celery_worker(tmp_path / "second.log"):
        assert _wait(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED, 50), (
            ImportJob.objects.filter(pk=job.pk).values("status", "rows_read", "error").get()
        )
        assert time.monotonic() - started < 50
    job.refresh_from_db()
    assert (job.rows_read, job.rows_created, job.rows_rejected, job.attempts) == (ROWS, ROWS, 0, 2)
    assert SourceRecord.objects.count() == ROWS == Party.objects.count()
    assert SourceRecord.objects.values("source_key").distinct().count() == ROWS
    assert ContactPointEmail.objects.count() == ROWS
    assert not TaskLease.objects.exists()


def _lease(**fields) -> TaskLease:
    defaults = {
        "task_id": uuid.uuid4().hex,
        "name": "c360.dashboard_refresh",
        "args": [],
        "queue": f"nobody-{uuid.uuid4().hex[:8]}",
        "sent_at": timezone.now(),
    }
    return TaskLease.objects.create(**{**defaults, **fields})


def _dead_process_identity() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    return identity


@pytest.mark.django_db
def test_recovery_sends_again_only_the_tasks_of_dead_or_silent_workers():
    now = timezone.now()
    alive = _lease(owner=process_identity(), heartbeat_at=now)
    dead_here = _lease(owner=_dead_process_identity(), heartbeat_at=now)
    silent_elsewhere = _lease(owner="another-machine:4242:1", heartbeat_at=now - timedelta(minutes=5))
    beating_elsewhere = _lease(owner="another-machine:4243:1", heartbeat_at=now)
    lost_message = _lease(sent_at=now - timedelta(hours=1))
    waiting = _lease(sent_at=now)

    assert process_gone(dead_here.owner) and not process_gone(alive.owner)
    assert not process_gone(process_identity(os.getppid()))

    sent = tasks_recover()
    assert sorted(sent) == sorted([dead_here.pk, silent_elsewhere.pk, lost_message.pk])
    for lease in (dead_here, silent_elsewhere, lost_message):
        lease.refresh_from_db()
        assert (lease.owner, lease.heartbeat_at) == ("", None)  # sent again, waiting to be taken
    for lease in (alive, beating_elsewhere, waiting):
        assert TaskLease.objects.get(pk=lease.pk).owner == lease.owner

    # A second recoverer (another worker starting, or beat) does not send them twice
    assert tasks_recover() == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_bulk_merge_whose_worker_died_is_finished_by_the_next_worker(role_groups, tmp_path):
    from django.conf import settings

    from matching.models import MatchSuggestion, SuggestionStatus
    from tests.factories import PartyFactory
    from tests.matching.queue_helpers import suggestion_for

    # Given a background bulk merge whose worker process died while running it (its lease
    # names a process of this machine that no longer exists; the broker will not send it again)
    suggestions = [suggestion_for([PartyFactory().pk, PartyFactory().pk]) for _ in range(3)]
    lease = _lease(
        name="matching.merge_bulk",
        args=[[s.pk for s in suggestions], None],
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        owner=_dead_process_identity(),
        heartbeat_at=timezone.now(),
        attempts=1,
    )

    # When a worker starts
    with celery_worker(tmp_path / "worker.log"):
        # Then it sends the merge again and finishes it, each suggestion merged once
        assert _wait(lambda: not TaskLease.objects.filter(pk=lease.pk).exists(), 50)
    assert set(MatchSuggestion.objects.values_list("status", flat=True)) == {SuggestionStatus.MERGED}
    assert Party.objects.filter(status="merged").count() == 3


@pytest.mark.django_db
def test_a_match_run_whose_start_died_before_planning_is_planned_once_when_resumed(
    django_capture_on_commit_callbacks,
):
    from matching.models import MatchRun, MatchRunChunk, RunPhase, RunStatus
    from matching.services.runs import match_run_execute
    from tests.factories import PartyFactory

    # Given a full run claimed by a worker that died before it planned any chunk
    PartyFactory.create_batch(5)
    run = MatchRun.objects.create(
        status=RunStatus.RUNNING,
        phase=RunPhase.FINGERPRINTING,
        full=True,
        heartbeat_at=timezone.now(),
        started_at=timezone.now(),
    )

    # When its start task is sent again (resumed), twice (a redelivery and the recovery)
    with django_capture_on_commit_callbacks(execute=True):
        match_run_execute(run_id=run.pk, resume=True)
    chunks = list(MatchRunChunk.objects.filter(run=run).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        match_run_execute(run_id=run.pk, resume=True)

    # Then the chunks are planned once and each is handed out (a lease per chunk task); the
    # second copy only hands out again the chunks nobody started, which run once each
    assert chunks and list(MatchRunChunk.objects.filter(run=run).values_list("pk", flat=True)) == chunks
    sent = [lease.args[0] for lease in TaskLease.objects.filter(name="matching.match_chunk")]
    assert sorted(sent) == sorted(chunks * 2)
    run.refresh_from_db()
    assert (run.status, run.chunks_total) == (RunStatus.RUNNING, len(chunks))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_pool_process_is_killed_is_taken_up_again_by_the_same_worker(
    role_groups, media_for_workers, tmp_path
):
    # Given a large file being imported by the child process of a prefork worker (production's
    # pool), the worker itself staying up
    source = SourceSystemFactory(name="Big CRM")
    job = _queued_job(source, _rows(ROWS))
    with celery_worker(tmp_path / "worker.log", pool="prefork"):
        from parties.tasks import import_job_run_task

        import_job_run_task.delay(job.pk)
        assert _wait(lambda: ImportJob.objects.get(pk=job.pk).rows_read >= 2000, 60)

        # When that child process is killed
        child = int(TaskLease.objects.get().owner.split(":")[1])
        os.kill(child, signal.SIGKILL)

        # Then the worker puts the task back (reject on worker lost), a new child takes the job
        # over at once (its previous process is gone) and finishes it, each row once
        assert _wait(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED, 50), (
            ImportJob.objects.filter(pk=job.pk).values("status", "rows_read", "error").get()
        )
    job.refresh_from_db()
    assert (job.rows_read, job.rows_created, job.attempts) == (ROWS, ROWS, 2)
    assert SourceRecord.objects.count() == ROWS == Party.objects.count()
    assert SourceRecord.objects.values("source_key").distinct().count() == ROWS
    assert not TaskLease.objects.exists()


@pytest.mark.django_db
def test_a_job_cancelled_while_its_worker_died_ends_cancelled_when_resumed(media_for_workers):
    from parties.services.imports.jobs import import_job_run

    job = _queued_job(SourceSystemFactory(name="CRM"), _rows(3))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CANCELLING, heartbeat_at=timezone.now())

    job = import_job_run(job_id=job.pk, resume=True)

    assert job.status == ImportStatus.CANCELLED and job.finished_at
    assert not SourceRecord.objects.exists()
