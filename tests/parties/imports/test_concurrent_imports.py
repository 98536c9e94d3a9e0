"""The same file imported twice at the same moment (issue 16, item 13): on PostgreSQL one job
failed with a UniqueViolation and needed a manual retry. Jobs into one source system now take
turns batch by batch, so both succeed and every row is imported exactly once.

The race is PostgreSQL's (READ COMMITTED: both batches see a key missing and both insert it).
On SQLite write transactions run one at a time (``transaction_mode`` IMMEDIATE), so it cannot
happen; the test runs there too and shows the same outcome."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connections

from parties.models import ImportJob, ImportStatus, Party, SourceRecord
from parties.services.imports.jobs import (
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 600


def _file() -> bytes:
    lines = ["source_key,given_name,family_name,email"]
    lines += [f"k{i:04d},Given{i},Family{i},p{i}@example.com" for i in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def _queued_job(source, content: bytes) -> ImportJob:
    stored = import_file_store(stream=io.BytesIO(content), original_name="customers.csv")
    job = import_job_create(source=source, kind="parties", stored_name=stored, original_name="customers.csv")
    return import_job_start(job=job, enqueue=False)


def test_the_same_file_imported_twice_at_once_imports_every_row_exactly_once(media, source):
    # Given two uploads of one file into one source system, queued at the same time
    jobs = [_queued_job(source, _file()), _queued_job(source, _file())]
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def work(job_id: int) -> None:
        try:
            start.wait()  # both workers start their first batch together
            import_job_run(job_id=job_id, batch_size=50)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    # When two workers (threads, each with its own database connection) run them at once
    threads = [threading.Thread(target=work, args=(job.pk,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    # Then both succeed, and each row was created by exactly one of them
    assert errors == []
    done = list(ImportJob.objects.filter(pk__in=[j.pk for j in jobs]))
    assert [(j.status, j.error) for j in done] == [(ImportStatus.SUCCEEDED, "")] * 2
    assert [j.rows_read for j in done] == [ROWS, ROWS]
    assert sum(j.rows_created for j in done) == ROWS
    assert all(j.rows_created + j.rows_unchanged == ROWS and j.rows_rejected == 0 for j in done)
    assert SourceRecord.objects.filter(source_system=source).count() == Party.objects.count() == ROWS
