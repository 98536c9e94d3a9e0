"""Import preview (dry run): what a draft's file would do, with nothing written.

The preview runs the real import — the same reader, the same kind's ``handle_batch`` for every
batch, the same source lock — inside one transaction that is rolled back at the end, so its
counts cannot drift from what the import then does: rows that would create customers, update
them, leave them unchanged, or be rejected (with line, column and reason). One transaction for
the whole file, not one per batch, so that a key repeated far apart in the file, or a customer
the file names twice, counts as the import would count it. Before the rollback the matcher is
asked (``parties.extensions.import_preview_assess``) what it would do with the customers the
file would create: merge them automatically, queue them for review, or leave them alone.

Nothing of it stays: no party, source record, rejection, change event; callbacks registered
with ``transaction.on_commit`` inside the rolled-back transaction are discarded; the job stays
a draft and its file stays. Only the report is stored on the job (``dry_run_report``).

Claiming follows the jobs' rule: the preview's status only moves with a conditional UPDATE,
fenced by ``dry_run_attempts``. Progress and liveness go to the cache, not the database: the
preview's own transaction is open the whole time, and on SQLite no other connection may write
meanwhile. A preview whose worker process is gone (``c360.kernel.durable.process_gone``) or
that gave no sign of life for ``STALE_AFTER`` may be taken over or asked for again.

On PostgreSQL the preview holds the source system's advisory lock while it runs (an import into
the same source waits for it) and the row locks of the customers it would update. On SQLite its
transaction holds the database's write lock until it ends: other writers wait for it (up to the
connection's timeout), so large previews belong on PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from itertools import chain
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from c360.kernel.durable import process_gone, process_identity
from parties.extensions import ErasureContext, ErasureParticipant, import_kind_get, import_preview_assess
from parties.models import ImportJob, ImportRejection, ImportStatus, Party, SourceSystem
from parties.models.imports import DryRunStatus
from parties.services.imports.jobs import (
    BATCH_SIZE,
    STALE_AFTER,
    ImportJobError,
    _batches,
    _new_source_clean,
    _prepared_batches,
    _source_lock,
    job_file_info,
    job_file_open,
)
from parties.services.imports.mapping import MappingError, mapping_clean
from parties.services.imports.readers import ImportFileError, RawRow, file_verify, rows_iter
from parties.services.sources import source_system_create

logger = logging.getLogger(__name__)

SAMPLE_REJECTIONS = 20  # rejected rows shown with the report (the counts cover all of them)


class _Stopped(Exception):
    """The draft was started, discarded or its preview taken over while the preview ran."""


def _progress_key(job_id: int) -> str:
    return f"import-dry-run:{job_id}"


def import_job_dry_run_progress(job: ImportJob) -> dict[str, Any]:
    """The running preview's progress (rows read, last sign of life), from the cache."""
    value = cache.get(_progress_key(job.pk)) or {}
    if value.get("attempt") != job.dry_run_attempts:
        return {}
    return value


def _beat(job_id: int, attempt: int, rows_read: int) -> None:
    cache.set(
        _progress_key(job_id),
        {"attempt": attempt, "rows_read": rows_read, "at": timezone.now().isoformat()},
        timeout=24 * 3600,
    )


def _last_sign_of_life(job: ImportJob) -> datetime | None:
    stamps = [job.dry_run_heartbeat_at] if job.dry_run_heartbeat_at else []
    beat = import_job_dry_run_progress(job).get("at")
    if beat:
        stamps.append(datetime.fromisoformat(beat))
    return max(stamps) if stamps else None


def import_job_dry_run_abandoned(job: ImportJob, *, now: datetime | None = None) -> bool:
    """Whether a running preview's worker is known dead (a process of this machine that ended)
    or silent for longer than ``STALE_AFTER``."""
    if job.dry_run_status != DryRunStatus.RUNNING:
        return False
    now = now or timezone.now()
    last = _last_sign_of_life(job)
    return (
        (job.dry_run_owner != "" and process_gone(job.dry_run_owner))
        or last is None
        or (last < now - STALE_AFTER)
    )


def import_job_dry_run_request(
    *, job: ImportJob, mapping: dict | None = None, enqueue: bool = True
) -> ImportJob:
    """Queue a preview of a draft with ``mapping`` (None: the draft's), which the draft keeps
    (the mapping page shows it again). Raises ``MappingError`` naming the wrong field or column,
    ``ImportJobError`` when the job is not a draft or its preview is running; then nothing
    changes. Ignored columns that look like customer data need no confirmation for a preview."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.DRAFT:
            raise ImportJobError(
                f"import #{job.pk} is {job.get_status_display().lower()}; "
                "only a job waiting for its mapping can be previewed"
            )
        if job.dry_run_status == DryRunStatus.RUNNING and not import_job_dry_run_abandoned(job):
            raise ImportJobError(f"a preview of import #{job.pk} is running; wait for its report")
        cleaned = mapping_clean(
            job.mapping if mapping is None else mapping, headers=job.headers, kind=import_kind_get(job.kind)
        )
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            mapping=cleaned,
            dry_run_status=DryRunStatus.QUEUED,
            dry_run_owner="",
            dry_run_heartbeat_at=now,
            dry_run_report={"queued_at": now.isoformat()},
        )
        if enqueue:
            from parties.tasks import import_job_dry_run_task

            job_id = job.pk
            transaction.on_commit(lambda: import_job_dry_run_task.delay(job_id))
    return ImportJob.objects.get(pk=job.pk)


def _claim(job_id: int) -> int | None:
    """Take a queued preview, or a running one whose worker is dead; returns its attempt."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    now = timezone.now()
    claimable = Q(dry_run_status=DryRunStatus.QUEUED)
    if import_job_dry_run_abandoned(job, now=now):
        claimable |= Q(dry_run_status=DryRunStatus.RUNNING, dry_run_attempts=job.dry_run_attempts)
    elif job.dry_run_status != DryRunStatus.QUEUED:
        # nothing to take, said without a write transaction: on SQLite a live preview holds the
        # write lock, and a second copy of its task must not wait for it
        return None
    with transaction.atomic(durable=True):
        if not ImportJob.objects.filter(Q(pk=job_id, status=ImportStatus.DRAFT) & claimable).update(
            dry_run_status=DryRunStatus.RUNNING,
            dry_run_owner=process_identity(),
            dry_run_heartbeat_at=now,
            dry_run_attempts=F("dry_run_attempts") + 1,
        ):
            return None
        return ImportJob.objects.filter(pk=job_id).values_list("dry_run_attempts", flat=True).get()


def _still_mine(job_id: int, attempt: int) -> bool:
    return ImportJob.objects.filter(
        pk=job_id, status=ImportStatus.DRAFT, dry_run_status=DryRunStatus.RUNNING, dry_run_attempts=attempt
    ).exists()


def _pending_source(job: ImportJob) -> SourceSystem:
    """The source system a draft names, registered inside the preview's transaction (so rolled
    back with it), as the import's start would register it."""
    pending = _new_source_clean(job.new_source or {})
    if SourceSystem.objects.filter(name__iexact=pending["name"]).exists():
        raise ImportJobError(
            f"a source system named {pending['name']!r} was registered since this file was "
            "uploaded; discard this upload and upload the file again into that system"
        )
    try:
        with transaction.atomic():
            return source_system_create(values=pending, user=job.created_by)
    except (IntegrityError, ValidationError) as exc:
        raise ImportJobError(f"the new source system cannot be registered: {exc}") from None


def _close(iterator: Iterator) -> None:
    close = getattr(iterator, "close", None)  # a generator's: its pool of processes ends
    if close is not None:
        close()


def _finish(job_id: int, attempt: int, status: str, report: dict) -> None:
    ImportJob.objects.filter(pk=job_id, dry_run_status=DryRunStatus.RUNNING, dry_run_attempts=attempt).update(
        dry_run_status=status, dry_run_report=report, dry_run_heartbeat_at=timezone.now()
    )


def _matcher_assess(party_ids: list[int]) -> dict[str, Any]:
    if not party_ids:
        return {"assessed": True, "auto_merge": 0, "review": 0, "alone": 0}
    try:
        with transaction.atomic():  # a savepoint: a failing matcher leaves the row counts standing
            return import_preview_assess(party_ids)
    except Exception as exc:
        logger.exception("the matcher could not assess a preview")
        return {"assessed": False, "reason": f"the matcher failed: {exc.__class__.__name__}: {exc}"[:500]}


def import_job_dry_run(*, job_id: int, batch_size: int = BATCH_SIZE) -> ImportJob:
    """Run a queued preview to its report (see the module's docstring). Does nothing if the
    preview is not queued (or running in a worker that died)."""
    attempt = _claim(job_id)
    if attempt is None:
        logger.info("import #%s has no preview to run", job_id)
        return ImportJob.objects.get(pk=job_id)
    started, clock = timezone.now(), time.monotonic()
    job = ImportJob.objects.select_related("source_system").get(pk=job_id)
    kind = import_kind_get(job.kind)
    counts = {"rows_read": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "issues": 0}
    report: dict[str, Any] = {
        "started_at": started.isoformat(),
        "mapping": job.mapping,
        "rows_total": job.rows_total,
        **counts,
    }
    try:
        mapping_clean(job.mapping, headers=job.headers, kind=kind)  # changed since it was queued?
        with ExitStack() as files:
            stream = files.enter_context(job_file_open(job))
            info = file_verify(stream, job_file_info(job), original_name=job.original_name)
            job.rows_total = report["rows_total"] = info.rows_estimate
            rows = rows_iter(stream, info, after_line=0)
            files.callback(rows.close)
            pending = job.source_system_id is None
            batches = _batches(rows, batch_size)
            # A draft naming a new source has no saved source for the worker processes to plan
            # records with: it is read in this process.
            planned: Iterator[tuple[list[RawRow], Any]] = (
                ((b, None) for b in batches) if pending else _prepared_batches(job, kind, batches)
            )
            files.callback(_close, planned)  # first: the standardizing processes end
            # The first batch is taken before the transaction opens: the standardizing processes
            # fork there, which they may not do inside a transaction.
            first = next(planned, None)
            changed: list[int] = []
            with transaction.atomic(durable=True):
                if pending:
                    job.source_system = _pending_source(job)
                source = job.source_system
                if source is None:  # said for the type checker: a saved job or the one just registered
                    raise ImportJobError(f"import #{job.pk} has no source system")
                _source_lock(source.pk)  # held to the end: the file sees one state of its source
                for batch, prepared in chain([first] if first else [], planned):
                    if not _still_mine(job.pk, attempt):
                        raise _Stopped
                    extra = {"prepared": prepared} if prepared is not None else {}
                    result = kind.handle_batch(
                        job=job, source=source, rows=batch, mapping=job.mapping, **extra
                    )
                    counts["rows_read"] += len(batch)
                    counts["created"] += result.created
                    counts["updated"] += result.updated
                    counts["unchanged"] += result.unchanged
                    counts["rejected"] += result.rejected
                    counts["issues"] += result.issues
                    changed.extend(result.changed_party_ids)
                    _beat(job.pk, attempt, counts["rows_read"])
                report["rejections"] = [
                    {"line": r.line, "column": r.column, "value": r.value[:200], "reason": r.reason}
                    for r in ImportRejection.objects.filter(job_id=job.pk).order_by("line", "id")[
                        :SAMPLE_REJECTIONS
                    ]
                ]
                new_parties = sorted(
                    Party.objects.filter(pk__in=sorted(set(changed)), created_at__gte=started).values_list(
                        "pk", flat=True
                    )
                )
                report["new_customers"] = len(new_parties)
                report["import_seconds"] = round(time.monotonic() - clock, 2)
                report["matcher"] = _matcher_assess(new_parties)
                transaction.set_rollback(True)  # the preview: nothing of it is written
    except _Stopped:
        report.update(
            counts, error="stopped: the import was started or discarded, or another preview took over"
        )
        _finish(job_id, attempt, DryRunStatus.FAILED, report)
        return ImportJob.objects.get(pk=job_id)
    except (ImportFileError, MappingError, ImportJobError) as exc:
        report.update(counts, error=str(exc))
        _finish(job_id, attempt, DryRunStatus.FAILED, report)
        return ImportJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("the preview of import #%s failed", job_id)
        report.update(
            counts,
            error=f"Internal error after {counts['rows_read']:,} rows: {exc.__class__.__name__}: {exc}. "
            "Nothing was written; preview again.",
        )
        _finish(job_id, attempt, DryRunStatus.FAILED, report)
        raise
    report.update(counts, seconds=round(time.monotonic() - clock, 2), finished_at=timezone.now().isoformat())
    _finish(job_id, attempt, DryRunStatus.SUCCEEDED, report)
    return ImportJob.objects.get(pk=job_id)


def dry_run_reports_erase(ctx: ErasureContext) -> None:
    """An erasure (the right to be forgotten): the person's values leave the previews' reports
    (the rejected rows shown there, and an error that quotes a value), as they leave the
    imports' own rejections."""
    ctx.redact_rows(
        ImportJob.objects.exclude(dry_run_report={}),
        documents=["dry_run_report"],
        only=("rejections", "error"),
    )


ERASURE_PARTICIPANT = ErasureParticipant(name="import-previews", erase=dry_run_reports_erase)
