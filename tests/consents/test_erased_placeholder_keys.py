"""An erased customer's source records keep a placeholder key (``erased-<id>``). A file naming
that key — a customers file, touch points or memberships — must not give the erased party a
name, an email or a touch point again: the row is rejected and says why (found by the
adversarial pass after issue 16: ``erased-46,Zombie,Back,zombie46@example.org`` updated the
erased party's record, golden record and contact points)."""

from __future__ import annotations

import io

import pytest

from consents.services.erasure import party_erase
from parties.models import (
    ContactPointEmail,
    Engagement,
    ImportRejection,
    ImportStatus,
    Party,
    SourceRecord,
)
from parties.services.imports.jobs import (
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _run(source, content: str, kind: str = "parties"):
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name="f.csv")
    job = import_job_create(source=source, kind=kind, stored_name=stored, original_name="f.csv")
    job = import_job_start(job=job, mapping=None, enqueue=False)
    return import_job_run(job_id=job.pk)


@pytest.fixture
def erased(media):
    source = SourceSystemFactory(name="CRM")
    _run(source, "source_key,given_name,family_name,email\nC-1,Yolanda,Zyxwvut,yolanda@example.org\n")
    record = SourceRecord.objects.get(source_key="C-1")
    party_erase(party_id=record.party_id, reason="PRIV-1")
    record.refresh_from_db()
    assert record.source_key == f"erased-{record.pk}"
    return source, record


def test_a_customers_row_naming_an_erased_records_placeholder_key_is_rejected(erased):
    source, record = erased
    job = _run(
        source,
        f"source_key,given_name,family_name,email\n"
        f"{record.source_key},Zombie,Back,zombie@example.org\nC-2,Ann,Lee,ann@example.org\n",
    )
    assert (job.status, job.rows_created, job.rows_updated, job.rows_rejected) == (
        ImportStatus.SUCCEEDED,
        1,
        0,
        1,
    )
    assert list(ImportRejection.objects.filter(job=job).values_list("line", "reason")) == [
        (
            2,
            f"source key {record.source_key!r} belongs to a customer erased on request (right to be "
            "forgotten); this row was not imported",
        )
    ]
    party = Party.objects.get(pk=record.party_id)
    assert party.erased_at is not None and party.given_name != "Zombie"
    assert not ContactPointEmail.objects.filter(normalized="zombie@example.org").exists()
    record.refresh_from_db()
    assert record.raw_payload == {} and record.source_key == f"erased-{record.pk}"


def test_a_touch_point_naming_an_erased_records_placeholder_key_is_rejected(erased):
    source, record = erased
    job = _run(
        source,
        "source_key,external_id,engagement_type,occurred_at\n"
        f"{record.source_key},O-1,order,2026-01-02T10:00:00Z\n",
        kind="engagements",
    )
    assert (job.status, job.rows_created, job.rows_rejected) == (ImportStatus.SUCCEEDED, 0, 1)
    reason = ImportRejection.objects.get(job=job).reason
    assert reason == (
        f"the customer with source key {record.source_key!r} was erased on request "
        "(right to be forgotten); nothing is added to them"
    )
    assert not Engagement.objects.filter(party_id=record.party_id).exists()
