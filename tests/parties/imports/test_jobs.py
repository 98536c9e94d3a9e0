"""Job lifecycle: cancel, retry, a worker killed mid-file, the command line."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from parties import extensions
from parties.models import ContactPointEmail, ImportJob, ImportStatus, Party, SourceRecord
from parties.services.imports.jobs import (
    ImportJobError,
    import_file_store,
    import_job_cancel,
    import_job_create,
    import_job_retry,
    import_job_run,
    import_job_start,
)
from tests.factories import SourceSystemFactory
from tests.workers import ROOT, celery_worker, subprocess_env


def _rows(count: int) -> str:
    return "source_key,given_name,family_name,email\n" + "".join(
        f"k{i:06d},Given{i},Family{i},person{i}@example.com\n" for i in range(count)
    )


def _queued_job(source, content: str) -> ImportJob:
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name="big.csv")
    job = import_job_create(source=source, kind="parties", stored_name=stored, original_name="big.csv")
    return import_job_start(job=job, enqueue=False)


@pytest.mark.django_db
def test_a_waiting_job_is_cancelled_at_once_and_a_finished_one_cannot_be(source, media):
    job = _queued_job(source, _rows(3))
    assert import_job_cancel(job=job).status == ImportStatus.CANCELLED
    assert import_job_run(job_id=job.pk).rows_read == 0  # a cancelled job is not run
    with pytest.raises(ImportJobError, match="already cancelled"):
        import_job_cancel(job=job)


@pytest.mark.django_db
def test_a_running_job_stops_after_its_current_batch_when_cancelled(source, media, monkeypatch):
    job = _queued_job(source, _rows(50))
    kind = extensions.import_kind_get("parties")

    def cancel_during_first_batch(**kwargs):
        result = kind.handle_batch(**kwargs)
        import_job_cancel(job=kwargs["job"])
        return result

    monkeypatch.setitem(
        extensions._import_kinds, "parties", dataclasses.replace(kind, handle_batch=cancel_during_first_batch)
    )
    job = import_job_run(job_id=job.pk, batch_size=10)
    assert job.status == ImportStatus.CANCELLED
    assert (job.rows_read, job.rows_created, job.cursor_line) == (10, 10, 11)
    assert SourceRecord.objects.count() == 10


@pytest.mark.django_db
def test_a_failed_job_is_retried_from_its_last_committed_batch(source, media, monkeypatch):
    job = _queued_job(source, _rows(30))
    kind = extensions.import_kind_get("parties")
    calls = {"n": 0}

    def crash_on_third_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return kind.handle_batch(**kwargs)

    monkeypatch.setitem(
        extensions._import_kinds, "parties", dataclasses.replace(kind, handle_batch=crash_on_third_batch)
    )
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk, batch_size=10)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "after line 21" in job.error
    assert SourceRecord.objects.count() == 20

    monkeypatch.setitem(extensions._import_kinds, "parties", kind)
    import_job_retry(job=job, enqueue=False)
    job = import_job_run(job_id=job.pk, batch_size=10)
    assert (job.status, job.rows_read, job.rows_created, job.attempts) == ("succeeded", 30, 30, 2)
    assert SourceRecord.objects.count() == 30 == Party.objects.count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_file_and_a_retry_leave_exactly_one_copy_of_each_row(
    role_groups, media, tmp_path, settings
):
    # Given a 40,000-row file queued for a real worker process
    settings.MEDIA_ROOT = media
    os.environ["MEDIA_ROOT"] = str(media)
    source = SourceSystemFactory(name="Big CRM")
    count = 40_000
    job = _queued_job(source, _rows(count))

    # When the worker dies (SIGKILL) in the middle of the file
    with celery_worker(tmp_path / "worker.log") as worker:
        from parties.tasks import import_job_run_task

        import_job_run_task.delay(job.pk)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.rows_read >= 3000:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and 0 < job.rows_read < count, job.rows_read
    committed = SourceRecord.objects.count()
    assert committed == job.rows_created  # the batch in flight was rolled back

    # Then the abandoned job can be retried, and it finishes without duplicating anything
    with pytest.raises(ImportJobError):
        import_job_retry(job=job, enqueue=False)  # not yet: it might still be alive
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    import_job_retry(job=job, enqueue=False)
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_read, job.rows_created, job.rows_rejected) == ("succeeded", count, count, 0)
    assert SourceRecord.objects.count() == count == Party.objects.count()
    assert ContactPointEmail.objects.count() == count
    assert SourceRecord.objects.values("source_key").distinct().count() == count
    os.environ.pop("MEDIA_ROOT", None)


@pytest.mark.django_db(transaction=True)
def test_the_command_line_exit_codes(role_groups, tmp_path, media):
    good = tmp_path / "good.csv"
    good.write_text("source_key,given_name\n1,Ann\n,NoKey\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    env = {**subprocess_env(), "MEDIA_ROOT": str(media)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "import_source", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = run(str(good), "--source", "Shell CRM", "--sync")
    assert ok.returncode == 0, ok.stderr
    assert "rows read 2, created 1, updated 0, unchanged 0, rejected 1" in ok.stdout
    assert "line 3: no source key" in ok.stdout
    again = run(str(good), "--source", "Shell CRM", "--sync")
    assert "created 0, updated 0, unchanged 1, rejected 1" in again.stdout

    bad = run(str(empty), "--source", "Shell CRM", "--sync")
    assert bad.returncode == 1 and "empty.csv is empty" in bad.stderr
    missing = run(str(tmp_path / "nope.csv"), "--source", "Shell CRM", "--sync")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    mapping = tmp_path / "m.json"
    mapping.write_text('{"source_key": "Kundennr"}')
    wrong = run(str(good), "--source", "Shell CRM", "--sync", "--mapping", str(mapping))
    assert wrong.returncode == 1 and "names column 'Kundennr'" in wrong.stderr
    assert Party.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_job_makes_the_command_fail(tmp_path, media):
    content = "source_key,given_name\n" + "".join(f"{i},Jürgen\n" for i in range(20_000))
    path = tmp_path / "mixed.csv"
    path.write_bytes(content.encode() + b"x,\xff\n")
    with pytest.raises(CommandError, match="failed: .*undecodable byte 0xff"):
        call_command("import_source", str(path), "--source", "Mixed", "--sync")
    assert SourceRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_redelivered_task_takes_over_an_abandoned_job_but_not_a_live_one(source, media):
    job = _queued_job(source, _rows(5))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, heartbeat_at=timezone.now())
    assert import_job_run(job_id=job.pk).rows_read == 0  # alive elsewhere: left alone

    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_created, job.attempts) == ("succeeded", 5, 1)
