"""Submitting a file for import: one service for the upload page, the API and the command line.

``import_submit`` checks what it is asked (the file kind, the caller's permission, the source
system or the new one to register), stores the file through the storage API, inspects it (size,
format, encoding, columns) and creates its job; asked to start it, it also fixes the mapping
and queues the job once the transaction commits. Any refusal leaves nothing behind: no job, no
stored file, no source system.
"""

from __future__ import annotations

from typing import IO

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction

from parties.extensions import ImportKind, import_kind_get
from parties.models import ImportJob, SourceSystem
from parties.services.imports.jobs import (
    ImportJobError,
    import_file_store,
    import_job_create,
    import_job_start,
)

ADD_SOURCE = "parties.add_sourcesystem"


class ImportKindError(ImportJobError):
    """The kind named is not a kind of import file."""


def _kind(kind: str) -> ImportKind:
    try:
        return import_kind_get(kind)
    except KeyError:
        raise ImportKindError(f"{kind!r} is not a file kind") from None


def _check(*, kind: ImportKind, user, source: SourceSystem | None, new_source: dict | None) -> None:
    """The refusals that need no file: checked before anything is stored."""
    if user is not None and not user.has_perm(kind.permission):
        raise PermissionDenied(f"Your role may not import {kind.label.lower()} files.")
    if new_source is not None and user is not None and not user.has_perm(ADD_SOURCE):
        raise PermissionDenied("Your role may not register source systems.")
    if source is not None and not source.is_active:
        # the page and the API offer only active systems; the command line found it by name
        raise ImportJobError(
            f"source system {source.name!r} is inactive; activate it before importing into it"
        )


def import_submit(
    *,
    stream: IO[bytes],
    original_name: str,
    kind: str,
    user=None,
    source: SourceSystem | None = None,
    new_source: dict | None = None,
    start: bool = False,
    mapping: dict | None = None,
    mapping_partial: bool = False,
    save_mapping: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file and create its import job; returns the job.

    ``user`` is whoever submits it: they must hold the kind's permission, and to name a
    ``new_source`` (name, default_region, date_order) the permission to add source systems.
    None is the command line, which runs with the server's own rights. Either ``source`` (an
    active one) or ``new_source`` is given; a new one is registered when the job starts.

    Without ``start`` the job waits for its mapping (the upload page maps columns next). With
    it, the job starts at once with ``mapping`` (None: the one the headers suggest, or the
    source's saved one; ``mapping_partial``: its entries replace the proposal's, a field given
    as null or [] is left unmapped), remembered on the source with ``save_mapping``, and is
    queued for a worker when the transaction commits (unless not ``enqueue``).

    Raises, leaving nothing behind: ``ImportKindError`` (no such kind), ``PermissionDenied``,
    ``ImportJobError`` (source system), ``ImportFileError`` (the file cannot be imported: size,
    format, encoding, columns) and ``MappingError`` (the mapping names a wrong field or
    column; ``IgnoredColumnsError`` is never raised here).

    Durable: it must be its own transaction. Inside a caller's, a rollback after it returned
    would leave the stored file without its job, where no erasure ever finds it."""
    import_kind = _kind(kind)
    _check(kind=import_kind, user=user, source=source, new_source=new_source)
    # stored before the transaction: copying a large upload must not hold it open
    stored = import_file_store(stream=stream, original_name=original_name)
    try:
        with transaction.atomic(durable=True):
            job = import_job_create(
                source=source,
                new_source=new_source,
                kind=import_kind.name,
                stored_name=stored,
                original_name=original_name,
                user=user,
            )
            if start:
                if mapping is not None and mapping_partial:
                    mapping = {k: v for k, v in {**job.mapping, **mapping}.items() if v}
                job = import_job_start(job=job, mapping=mapping, save_mapping=save_mapping, enqueue=enqueue)
    except BaseException:
        default_storage.delete(stored)  # after the rollback: the job that named it is gone
        raise
    return job
