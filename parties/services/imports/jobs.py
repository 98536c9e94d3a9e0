"""Import jobs: create from an uploaded file, map columns, run in batches, cancel, retry.

Claiming follows one rule: a job's status only moves with a conditional UPDATE
(``filter(pk=…, status=old).update(status=new)``), and whoever changed the row owns the next
step. So two workers given the same job never both run it, and a job is safe to retry.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from parties.extensions import import_kind_get, parties_changed_notify
from parties.models import ImportJob, ImportStatus, SourceSystem
from parties.services.imports.mapping import (
    Columns,
    IgnoredColumn,
    MappingError,
    mapping_clean,
    mapping_ignored_warnings,
    mapping_propose,
)
from parties.services.imports.readers import (
    FileInfo,
    ImportFileError,
    RawRow,
    file_inspect,
    file_verify,
    rows_iter,
    rows_preview,
)
from parties.services.sources import source_system_create

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
STALE_AFTER = timedelta(minutes=2)
# First key of the PostgreSQL advisory locks imports take (the second is the source system's id).
SOURCE_LOCK_NAMESPACE = 0x1360


class ImportJobError(Exception):
    """The request cannot be done to this job in its state; the message says why."""


class IgnoredColumnsError(MappingError):
    """The mapping ignores columns whose values look like customer data; nothing started.
    ``columns`` lists them; starting again with them confirmed (or mapped) goes ahead."""

    def __init__(self, columns: list[IgnoredColumn]) -> None:
        self.columns = columns
        super().__init__(
            "; ".join(c.text for c in columns)
            + ". Map these columns, or confirm that they are to be ignored."
        )


SAMPLE_ROWS = 50  # rows read to tell what an ignored column holds


def _upload_path(original_name: str) -> str:
    suffix = Path(original_name).suffix.lower()[:10]
    today = timezone.now()
    return f"imports/{today:%Y/%m}/{uuid.uuid4().hex}{suffix}"


def import_file_store(*, stream: IO[bytes], original_name: str) -> str:
    """Copy an upload (or a file given on the command line) into the file storage, streaming;
    returns its name there. Through the storage API, so the files may live in object storage."""
    content = stream if isinstance(stream, File) else File(stream, name=original_name)
    return default_storage.save(_upload_path(original_name), content)


def job_file_open(job: ImportJob) -> File:
    """The job's stored file as a binary stream (the readers' ``Source``), from its storage."""
    if not job.file.name:
        raise ImportFileError(f"import #{job.pk} has no stored file.")
    return job.file.storage.open(job.file.name, "rb")


def job_file_info(job: ImportJob) -> FileInfo:
    return FileInfo(job.file_format, list(job.headers), job.encoding, job.delimiter, job.rows_total)


def _new_source_clean(new_source: dict) -> dict:
    """The settings of a source system to register: a name no system has, a phone region
    and a date order, each asked of the person (no silent default)."""
    import phonenumbers

    from parties.models.sources import DateOrder

    name = " ".join(str(new_source.get("name") or "").split())
    region = str(new_source.get("default_region") or "").strip().upper()
    order = str(new_source.get("date_order") or "").strip().upper()
    if not name:
        raise ImportJobError("name the new source system")
    if len(name) > 100:
        raise ImportJobError("the new source system's name is longer than 100 characters")
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImportJobError(
            f"the new source system's phone region {region!r} is not an ISO "
            "country code (for example US, DE, GB)"
        )
    if order not in DateOrder.values:
        raise ImportJobError(
            f"the new source system's date order {order!r} is not one of {', '.join(DateOrder.values)}"
        )
    return {"name": name, "default_region": region, "date_order": order}


@transaction.atomic
def import_job_create(
    *,
    source: SourceSystem | None = None,
    kind: str,
    stored_name: str,
    original_name: str,
    user=None,
    new_source: dict | None = None,
) -> ImportJob:
    """Inspect a stored file and create its job, waiting for a mapping. A file that cannot
    be imported at all raises ``ImportFileError``; then (as on any other error) the stored
    file is deleted and no job is created.

    Either ``source`` is given, or ``new_source`` (name, default_region, date_order) names a
    source system that ``import_job_start`` registers: nothing is registered for an upload
    that is never started."""
    try:
        if (source is None) == (new_source is None):
            raise ImportJobError("give either a source system or a new one to register")
        pending = {} if new_source is None else _new_source_clean(new_source)
        if pending and SourceSystem.objects.filter(name__iexact=pending["name"]).exists():
            raise ImportJobError(
                f"a source system named {pending['name']!r} already exists; choose it instead"
            )
        import_kind = import_kind_get(kind)
        with default_storage.open(stored_name, "rb") as stream:
            size = stream.size
            info = file_inspect(
                stream,
                original_name=original_name,
                max_bytes=settings.C360_UPLOAD_MAX_BYTES,
                max_columns=settings.C360_IMPORT_MAX_COLUMNS,
            )
        saved = (source.column_mappings or {}).get(kind) if source else None
        job = ImportJob.objects.create(
            source_system=source,
            new_source=pending,
            kind=kind,
            file=stored_name,
            original_name=original_name[:255],
            file_size=size,
            file_format=info.format,
            encoding=info.encoding,
            delimiter=info.delimiter,
            headers=info.headers,
            rows_total=info.rows_estimate,
            mapping=mapping_propose(info.headers, kind=import_kind, saved=saved),
            created_by=user,
        )
    except BaseException:
        default_storage.delete(stored_name)  # no orphaned upload, whatever went wrong
        raise
    return job


def import_job_preview(job: ImportJob, *, limit: int) -> list[RawRow]:
    """The file's first rows, as far as they can be read (the job's full check reports why not)."""
    with job_file_open(job) as stream:
        return rows_preview(stream, job_file_info(job), limit=limit)


def import_job_samples(job: ImportJob, *, limit: int = SAMPLE_ROWS) -> list[dict[str, str]]:
    """The values of the file's first rows (those that could be read), by column."""
    return [row.values for row in import_job_preview(job, limit=limit) if row.values]


def import_job_ignored_columns(job: ImportJob, mapping: Columns) -> list[IgnoredColumn]:
    """The columns this mapping would ignore although they look like customer data."""
    return mapping_ignored_warnings(mapping, headers=job.headers, samples=import_job_samples(job))


@transaction.atomic
def import_job_start(
    *,
    job: ImportJob,
    mapping: dict | None = None,
    save_mapping: bool = False,
    enqueue: bool = True,
    confirmed_ignored: Iterable[str] | None = None,
) -> ImportJob:
    """Fix the column mapping, register the source system the upload named (if it named a
    new one) and queue the job. Raises ``MappingError`` naming the wrong field or column;
    then nothing changes.

    With ``confirmed_ignored`` (the page passes it; files given with an explicit mapping by
    the API or the command line do not), a column the mapping ignores whose values look like
    email addresses, phone numbers, dates or postal codes must be among the confirmed ones,
    or ``IgnoredColumnsError`` names it and nothing starts."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportStatus.DRAFT:
        raise ImportJobError(
            f"import #{job.pk} is {job.get_status_display().lower()}; "
            "only a job waiting for its mapping can be started"
        )
    kind = import_kind_get(job.kind)
    cleaned: Columns = mapping_clean(
        job.mapping if mapping is None else mapping, headers=job.headers, kind=kind
    )
    if confirmed_ignored is not None:
        confirmed = set(confirmed_ignored)
        unconfirmed = [c for c in import_job_ignored_columns(job, cleaned) if c.column not in confirmed]
        if unconfirmed:
            raise IgnoredColumnsError(unconfirmed)
    fields = ["mapping", "status", "queued_at"]
    if job.source_system_id is None:
        pending = _new_source_clean(job.new_source or {})
        taken = ImportJobError(
            f"a source system named {pending['name']!r} was registered since this file was "
            "uploaded; discard this upload and upload the file again into that system"
        )
        if SourceSystem.objects.filter(name__iexact=pending["name"]).exists():
            raise taken
        try:  # another upload naming it may be starting at this moment (both saw the name free)
            with transaction.atomic():
                job.source_system = source_system_create(values=pending, user=job.created_by)
        except (IntegrityError, ValidationError):  # the unique name, checked or hit
            raise taken from None
        fields.append("source_system")
    job.mapping = cleaned
    job.status = ImportStatus.QUEUED
    job.queued_at = timezone.now()
    job.save(update_fields=fields)
    if save_mapping:
        source = SourceSystem.objects.select_for_update().get(pk=_source_id(job))
        source.column_mappings = {**(source.column_mappings or {}), job.kind: cleaned}
        source.save(update_fields=["column_mappings", "updated_at"])
    if enqueue:
        _enqueue(job.pk)
    return job


def _enqueue(job_id: int) -> None:
    from parties.tasks import import_job_run_task

    transaction.on_commit(lambda: import_job_run_task.delay(job_id))


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Stop a job. Waiting jobs stop at once; a running job stops after its current batch
    (batches already committed stay imported, and the report says how far it got)."""
    now = timezone.now()
    if ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.DRAFT, ImportStatus.QUEUED]).update(
        status=ImportStatus.CANCELLED, finished_at=now
    ):
        return ImportJob.objects.get(pk=job.pk)
    if ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.CANCELLING
    ):
        return ImportJob.objects.get(pk=job.pk)
    job.refresh_from_db()
    raise ImportJobError(f"import #{job.pk} is already {job.get_status_display().lower()}")


def import_job_retry(*, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Queue a failed, cancelled or abandoned (worker died) job again. It continues after
    the last committed batch, so no row is imported twice."""
    stale = timezone.now() - STALE_AFTER
    retryable = (
        Q(status__in=[ImportStatus.FAILED, ImportStatus.CANCELLED])
        & ~Q(mapping={})
        & Q(source_system__isnull=False)
    )  # a discarded draft never registered its source
    abandoned = Q(status=ImportStatus.RUNNING, heartbeat_at__lt=stale)
    with transaction.atomic():
        if not ImportJob.objects.filter(Q(pk=job.pk) & (retryable | abandoned)).update(
            status=ImportStatus.QUEUED, error="", finished_at=None, queued_at=timezone.now()
        ):
            job.refresh_from_db()
            raise ImportJobError(
                f"import #{job.pk} is {job.get_status_display().lower()}; only a failed, "
                "cancelled or abandoned job can be retried"
            )
        if enqueue:
            _enqueue(job.pk)
    return ImportJob.objects.get(pk=job.pk)


def _relax_commit() -> None:
    """On PostgreSQL, do not wait for this batch's commit to reach the disk. Safe here: the
    job's cursor commits in the same transaction as the rows, so a crash that loses the last
    commits loses them together and a retry redoes exactly those lines."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _source_id(job: ImportJob) -> int:
    """The job's source system: every job past its draft has one (``import_job_start`` registers
    the one a draft names)."""
    if job.source_system_id is None:
        raise ImportJobError(f"import #{job.pk} has no source system yet")
    return job.source_system_id


def _source_lock(source_id: int) -> None:
    """Jobs writing into the same source system take turns, batch by batch, so the same file
    imported twice at the same moment gives one job's rows and the other's "unchanged", not a
    UniqueViolation: under READ COMMITTED both batches would see a key missing and both insert
    it. A transaction-scoped advisory lock, taken first in the batch's transaction: whoever waits
    for it holds no row lock yet, so it joins no deadlock with the party locks. SQLite needs
    none: its write transactions run one at a time (``transaction_mode`` IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [SOURCE_LOCK_NAMESPACE, source_id & 0x7FFFFFFF]
            )


def _claim(job_id: int, resume: bool = False) -> int | None:
    """Take a queued job — or a running one whose worker stopped beating, or (``resume``) whose
    task's previous worker is known dead (``c360.kernel.durable``): it then continues after its last
    committed line. Returns the job's attempt number, which fences its batches: a batch commits
    only while the job is still this attempt's. None when there was nothing to take."""
    now = timezone.now()
    claimable = Q(status=ImportStatus.QUEUED) | Q(
        status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    if resume:
        claimable |= Q(status=ImportStatus.RUNNING)
        # asked to stop before its worker died: it stops now, as it would have after its batch
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.CANCELLING).update(
            status=ImportStatus.CANCELLED, finished_at=now
        )
    # durable: a job run inside a caller's transaction would commit none of its batches, so it
    # could neither be watched nor continued after a crash; refused before anything is claimed
    with transaction.atomic(durable=True):
        if not ImportJob.objects.filter(Q(pk=job_id) & claimable).update(
            status=ImportStatus.RUNNING,
            started_at=Coalesce("started_at", Value(now)),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        ):
            return None
        return ImportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()


class _TakenOver(Exception):
    """Another worker took the job over (this one was thought dead); this batch is undone."""


def _batches(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _prepare_in_worker(
    kind_name: str, mapping: Columns, source: SourceSystem, job_id: int, headers: list[str], rows: list[tuple]
) -> Any:
    """Runs in a pool process: the CPU-heavy, database-free part of a batch. Rows travel as
    plain tuples, which pickle several times faster than ``RawRow`` objects."""
    prepare = import_kind_get(kind_name).prepare_batch
    if prepare is None:  # _prepared_batches sends only the batches of kinds that prepare them
        raise ValueError(f"import kind {kind_name!r} does not prepare batches")
    batch = [
        RawRow(line, dict(zip(columns, values, strict=True)), error) for line, columns, values, error in rows
    ]
    return prepare(batch, mapping, source, job_id, timezone.now())


def _as_tuples(batch: list[RawRow], headers: list[str]) -> list[tuple]:
    rows = []
    for row in batch:
        keys = tuple(row.values)
        # the header list is shared by almost every row; only odd rows carry their own keys
        rows.append(
            (
                row.line,
                headers if keys == tuple(headers) else list(keys),
                tuple(row.values.values()),
                row.error,
            )
        )
    return rows


def _prepared_batches(
    job: ImportJob, kind, batches: Iterator[list[RawRow]]
) -> Iterator[tuple[list[RawRow], Any]]:
    """``(batch, prepared or None)`` for every batch, in file order.

    Large jobs standardize in a pool of processes (billiard, which works inside Celery's own
    worker processes) while this process writes; at most two batches per process are in
    flight, so memory stays bounded whatever the file size."""
    processes = settings.C360_IMPORT_PROCESSES
    # Forking needs this process's database connection closed, so never inside a caller's
    # transaction.
    parallel = (
        kind.prepare_batch is not None
        and processes > 1
        and (job.rows_total or 0) >= settings.C360_IMPORT_PARALLEL_MIN_ROWS
        and not connection.in_atomic_block
    )
    if not parallel:
        for batch in batches:
            yield batch, None
        return
    from billiard.pool import Pool

    # Forked children must not share this process's database connection.
    connections.close_all()
    headers = list(job.headers)
    pool = Pool(processes)
    try:
        pending: deque = deque()
        for batch in batches:
            pending.append(
                (
                    batch,
                    pool.apply_async(
                        _prepare_in_worker,
                        (
                            job.kind,
                            job.mapping,
                            job.source_system,
                            job.pk,
                            headers,
                            _as_tuples(batch, headers),
                        ),
                    ),
                )
            )
            if len(pending) >= 2 * processes:
                batch_done, result = pending.popleft()
                yield batch_done, result.get()
        while pending:
            batch_done, result = pending.popleft()
            yield batch_done, result.get()
    finally:
        pool.terminate()
        pool.join()


def import_job_run(*, job_id: int, batch_size: int = BATCH_SIZE, resume: bool = False) -> ImportJob:
    """Run a queued job to the end. Each batch is written in one transaction together with
    the job's counters and cursor, so a crash loses at most the batch in flight and a retry
    continues after the last committed line. Does nothing if the job is not queued (or,
    ``resume``: running in a worker that died)."""
    attempt = _claim(job_id, resume)
    if attempt is None:
        logger.info("import #%s is not queued; nothing to do", job_id)
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("source_system").get(pk=job_id)
    kind = import_kind_get(job.kind)
    files = ExitStack()
    try:
        # one stream from the storage for the whole job: the check, then the rows
        stream = files.enter_context(job_file_open(job))
        info = job_file_info(job)
        if job.cursor_line == 0:
            info = file_verify(stream, info, original_name=job.original_name)
            ImportJob.objects.filter(pk=job.pk).update(encoding=info.encoding, rows_total=info.rows_estimate)
        job.rows_total = info.rows_estimate
        rows = rows_iter(stream, info, after_line=job.cursor_line)
        files.callback(rows.close)  # the reader first (a cancel leaves it unfinished), then the stream
        batches = _batches(rows, batch_size)
        for batch, prepared in _prepared_batches(job, kind, batches):
            # a read, not a write: an UPDATE here would wait for its own disk flush per batch
            if ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CANCELLING).exists() and (
                ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CANCELLING).update(
                    status=ImportStatus.CANCELLED, finished_at=timezone.now()
                )
            ):
                return ImportJob.objects.get(pk=job.pk)
            # durable: the promise above holds only if each batch really commits here
            with transaction.atomic(durable=True):
                _source_lock(_source_id(job))
                _relax_commit()
                extra = {"prepared": prepared} if prepared is not None else {}
                result = kind.handle_batch(
                    job=job, source=job.source_system, rows=batch, mapping=job.mapping, **extra
                )
                # last, after the rows (the lock order: parties_lock's docstring); fenced by
                # the attempt, so a worker taken over for dead cannot commit a batch twice
                if not ImportJob.objects.filter(pk=job.pk, attempts=attempt).update(
                    rows_read=F("rows_read") + len(batch),
                    rows_created=F("rows_created") + result.created,
                    rows_updated=F("rows_updated") + result.updated,
                    rows_unchanged=F("rows_unchanged") + result.unchanged,
                    rows_rejected=F("rows_rejected") + result.rejected,
                    issues_count=F("issues_count") + result.issues,
                    cursor_line=batch[-1].line,
                    heartbeat_at=timezone.now(),
                ):
                    raise _TakenOver
                changed = list(result.changed_party_ids)
                transaction.on_commit(partial(parties_changed_notify, changed, reason="import"))
    except _TakenOver:
        logger.warning("import #%s was taken over by another worker; this one stops", job.pk)
        return ImportJob.objects.get(pk=job.pk)
    except (ImportFileError, MappingError) as exc:
        _finish(job.pk, ImportStatus.FAILED, str(exc), attempt)
        return ImportJob.objects.get(pk=job.pk)
    except Exception as exc:
        logger.exception("import #%s failed", job.pk)
        _finish(
            job.pk,
            ImportStatus.FAILED,
            f"Internal error after line {ImportJob.objects.get(pk=job.pk).cursor_line}: "
            f"{exc.__class__.__name__}: {exc}. Rows up to that line are imported; "
            "retry the job to continue.",
            attempt,
        )
        raise
    finally:
        files.close()
    _finish(job.pk, ImportStatus.SUCCEEDED, "", attempt)
    return ImportJob.objects.get(pk=job.pk)


def _finish(job_id: int, status: str, error: str, attempt: int | None = None) -> None:
    updates = {"status": status, "error": error, "finished_at": timezone.now()}
    if status == ImportStatus.SUCCEEDED:
        updates["rows_total"] = F("rows_read")
    mine = {} if attempt is None else {"attempts": attempt}  # not a job another worker took over
    ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.RUNNING, ImportStatus.CANCELLING], **mine
    ).update(**updates)


@dataclass(frozen=True)
class Progress:
    percent: int
    rows_per_second: float | None
    eta_seconds: float | None


def import_job_progress(job: ImportJob) -> Progress:
    if not job.started_at or not job.rows_read:
        return Progress(job.percent, None, None)
    end = job.finished_at or timezone.now()
    elapsed = max((end - job.started_at).total_seconds(), 0.001)
    rate = job.rows_read / elapsed
    remaining = max((job.rows_total or job.rows_read) - job.rows_read, 0)
    eta = None if job.is_finished else remaining / rate if rate else None
    return Progress(job.percent, rate, eta)
