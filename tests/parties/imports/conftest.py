from __future__ import annotations

import io
from pathlib import Path

import pytest

from parties.services.imports.jobs import (
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)
from tests.factories import SourceSystemFactory


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def source(db):
    return SourceSystemFactory(name="Web Shop", default_region="DE", date_order="DMY")


@pytest.fixture
def run_import(media, source):
    """``run_import(content, name="x.csv", mapping=None, kind="parties")`` → the finished job,
    run in-process."""

    def run(
        content: bytes | str,
        name: str = "customers.csv",
        mapping: dict | None = None,
        batch_size: int = 1000,
        src=None,
        kind: str = "parties",
    ):
        data = content.encode("utf-8") if isinstance(content, str) else content
        stored = import_file_store(stream=io.BytesIO(data), original_name=name)
        job = import_job_create(source=src or source, kind=kind, stored_name=stored, original_name=name)
        job = import_job_start(job=job, mapping=mapping, enqueue=False)
        return import_job_run(job_id=job.pk, batch_size=batch_size)

    return run


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path
