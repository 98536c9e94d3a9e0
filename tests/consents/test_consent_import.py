"""Bulk consent changes through the import pipeline: idempotent, in the ledger by job and line,
and every bad row reported with its line, column and reason."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from consents.models import ConsentEvent, ContactPointTypeConsent
from consents.services.ledger import ledger_check
from parties.models import ContactPointEmail, ContactPointPhone, ImportJob, ImportRejection
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db

FILE = """Customer ID,E-Mail,Mobile,Channel,List,Subscribed,Date,Source
CRM-1,,,email,newsletter,unsubscribed,2026-10-01,email platform
,ANN@example.com,,email,marketing,opt_out,2026-10-02,email platform
,,0151 2345 6789,sms,marketing,yes,2026-10-03,shop
CRM-404,,,email,newsletter,opt_out,2026-10-01,x
CRM-1,,,pigeon,newsletter,opt_out,2026-10-01,x
CRM-1,,,email,newsletter,maybe,2026-10-01,x
CRM-1,,,email,newsletter,opt_out,31.02.2026,x
"""


@pytest.fixture
def customers():
    crm = SourceSystemFactory(name="CRM", default_region="DE", date_order="YMD")
    first = SourceRecordFactory(source_system=crm, source_key="CRM-1").party
    ann = PartyFactory()
    ContactPointEmail.objects.create(party=ann, raw_value="ann@example.com", normalized="ann@example.com")
    phone = PartyFactory()
    ContactPointPhone.objects.create(party=phone, raw_value="x", normalized="+4915123456789")
    return first, ann, phone


def _import(tmp_path, text: str = FILE) -> ImportJob:
    path = tmp_path / "consents.csv"
    path.write_text(text)
    call_command("import_source", str(path), source="CRM", kind="consents", sync=True, verbosity=0)
    return ImportJob.objects.latest("pk")


def test_a_consent_file_changes_consents_and_reports_each_bad_row(tmp_path, customers):
    first, ann, phone = customers
    job = _import(tmp_path)

    statuses = {
        (r.party_id, r.channel, r.purpose.code): r.status
        for r in ContactPointTypeConsent.objects.select_related("purpose")
    }
    assert statuses == {
        (first.pk, "email", "newsletter"): "opt_out",
        (ann.pk, "email", "marketing"): "opt_out",
        (phone.pk, "sms", "marketing"): "opt_in",
    }
    event = ConsentEvent.objects.get(party=first)
    assert (event.actor_label, event.import_job_id, event.import_line, event.capture_source) == (
        f"import #{job.pk} line 2",
        job.pk,
        2,
        "email platform",
    )
    rejected = {(r.line, r.column): r.reason for r in ImportRejection.objects.filter(job=job)}
    assert rejected[(5, "Customer ID")] == "no customer with source key 'CRM-404' in CRM"
    assert rejected[(6, "Channel")].startswith("not one of email")
    assert rejected[(7, "Subscribed")] == "not opt_in, opt_out, seen or not_seen"
    assert (8, "Date") in rejected
    assert ledger_check() == []


def test_importing_the_same_file_again_changes_nothing(tmp_path, customers):
    _import(tmp_path)
    events = ConsentEvent.objects.count()
    _import(tmp_path)
    assert ConsentEvent.objects.count() == events


def test_marketing_uploads_an_opt_out_list_through_the_import_pages(
    role_client, customers, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from parties.models import SourceSystem
    from parties.services.imports.jobs import import_job_run

    settings.MEDIA_ROOT = tmp_path / "media"
    first, ann, _ = customers
    client = role_client("marketing")
    upload = client.post(
        reverse("parties:import_new"),
        {
            "kind": "consents",
            "source": SourceSystem.objects.get(name="CRM").pk,
            "file": SimpleUploadedFile("optouts.csv", FILE.encode()),
        },
    )
    job = ImportJob.objects.get()
    assert upload.status_code == 302 and job.kind == "consents" and job.created_by.username == "t-marketing"
    mapping = client.get(upload["Location"])
    assert mapping.status_code == 200
    columns = mapping.context["form"].column_fields()
    fields = {f"col_{i}": field.value() for i, (_, field) in enumerate(columns)}
    assert client.post(upload["Location"], fields).status_code == 302
    import_job_run(job_id=job.pk)  # what the worker does

    page = client.get(reverse("parties:import_detail", args=[job.pk]))
    assert page.status_code == 200 and b"no customer with source key" in page.content
    assert ContactPointTypeConsent.objects.get(party=first).status == "opt_out"
    assert ConsentEvent.objects.get(party=ann).import_job_id == job.pk
