"""Adversarial pass: two uploads that name the same new source system, started at the same
moment on PostgreSQL. Both saw no system of that name, so both created it: the second got
an IntegrityError (a 500 on the mapping page). Now one starts and registers the system, the
other is told the name was registered meanwhile and stays a draft."""

from __future__ import annotations

import pytest
from django.db import connection

from parties.models import ImportJob, ImportStatus, SourceSystem
from parties.services.imports.jobs import ImportJobError, import_job_start
from tests.matching.test_concurrent_decisions import _race
from tests.parties.imports.test_mapping_steward import GERMAN, _draft

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="READ COMMITTED lets both see the name free; SQLite runs write transactions one at a time",
    ),
]


def _start(job_id: int) -> str:
    try:
        import_job_start(job=ImportJob.objects.get(pk=job_id), enqueue=False)
    except ImportJobError as exc:
        return f"refused: {exc}"
    return "started"


def test_two_drafts_naming_one_new_source_started_at_once(media):
    for trial in range(6):
        name = f"Shop {trial}"
        settings_ = {"name": name, "default_region": "DE", "date_order": "DMY"}
        first, second = _draft(GERMAN, new_source=settings_), _draft(GERMAN, new_source=settings_)
        outcomes = _race(lambda j=first.pk: _start(j), lambda j=second.pk: _start(j))
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "started"], outcomes
        assert "was registered since this file was uploaded" in next(o for o in outcomes if o != "started")
        assert SourceSystem.objects.filter(name=name).count() == 1
        jobs = ImportJob.objects.filter(pk__in=[first.pk, second.pk])
        statuses = sorted(jobs.values_list("status", flat=True))
        assert statuses == sorted([ImportStatus.DRAFT, ImportStatus.QUEUED])
