"""Idempotent upserts, changed rows, duplicates, data-quality issues, the report."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from parties import extensions
from parties.models import (
    ContactPointEmail,
    DataQualityIssue,
    ImportRejection,
    Party,
    SourceRecord,
    SourceSystem,
)

pytestmark = pytest.mark.django_db

CANONICAL = (
    "source_key,given_name,family_name,birth_date,email,phone,address_line1,postal_code,city,country\n"
    "c1,Anna,Schmidt,17.05.1980,anna@example.de,030 1234567,Hauptstraße 1,10115,Berlin,DE\n"
    "c2,Ben,Meyer,,ben@example.de,,,,,\n"
    "c3,Cara,Vogel,31.02.1990,not-an-email,12,,,,Atlantis\n"
)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(run_import):
    first = run_import(CANONICAL)
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (3, 0, 0)
    snapshot = list(SourceRecord.objects.order_by("pk").values_list("pk", "content_hash", "party_id"))

    second = run_import(CANONICAL)

    assert (
        second.rows_read,
        second.rows_created,
        second.rows_updated,
        second.rows_unchanged,
        second.rows_rejected,
    ) == (3, 0, 0, 3, 0)
    assert list(SourceRecord.objects.order_by("pk").values_list("pk", "content_hash", "party_id")) == snapshot
    assert Party.objects.count() == 3 and ContactPointEmail.objects.count() == 3


def test_a_changed_row_updates_its_record_and_golden_record_and_keeps_old_contact_points(run_import):
    run_import(CANONICAL)
    changed = CANONICAL.replace("c2,Ben,Meyer,,ben@example.de", "c2,Ben,Meyer-Lang,,ben.new@example.de")

    job = run_import(changed)

    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 1, 2)
    record = SourceRecord.objects.get(source_key="c2")
    assert record.raw_payload["family_name"] == "Meyer-Lang"
    assert record.party.family_name == "Meyer-Lang"
    assert record.party.display_name == "Ben Meyer-Lang"
    emails = set(record.party.emails.values_list("normalized", flat=True))
    assert emails == {"ben@example.de", "ben.new@example.de"}  # nothing is lost
    assert Party.objects.count() == 3


def test_a_value_that_cannot_be_standardized_keeps_its_row_and_is_recorded(run_import):
    job = run_import(CANONICAL)
    record = SourceRecord.objects.get(source_key="c3")
    issues = {(i.field, i.value, i.line) for i in DataQualityIssue.objects.filter(source_record=record)}
    assert issues == {
        ("birth_date", "31.02.1990", 4),
        ("email", "not-an-email", 4),
        ("phone", "12", 4),
        ("country", "Atlantis", 4),
    }
    assert job.issues_count == 4 and job.rows_created == 3
    assert record.party.emails.get().validity == "invalid"


def test_a_key_repeated_in_one_file_is_reported_not_imported_twice(run_import):
    job = run_import(CANONICAL + "c1,Anna,Duplicate,,,,,,,\n", batch_size=2)
    assert job.rows_created == 3 and job.rows_rejected == 1
    rejection = ImportRejection.objects.get()
    assert (rejection.line, rejection.value) == (5, "c1")
    assert "already appeared at line 2" in rejection.reason
    assert SourceRecord.objects.get(source_key="c1").party.family_name == "Schmidt"


def test_rows_that_identify_nobody_are_rejected_with_line_and_reason(run_import):
    job = run_import("source_key,given_name,email\n,Ann,a@b.de\nk2,,\n")
    reasons = dict(ImportRejection.objects.values_list("line", "reason"))
    assert job.rows_rejected == 2
    assert reasons[2] == "no source key: the row cannot be identified"
    assert reasons[3].startswith("nothing identifies a party")


def test_the_error_report_lists_every_problem_and_is_formula_safe(run_import, admin_client):
    job = run_import(CANONICAL + ',=HYPERLINK("http://evil"),x,,,,,,,\n')
    response = admin_client.get(reverse("parties:import_report", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["line", "column", "value", "reason", "outcome"]
    assert rows[2][:3] == ["4", "email", "not-an-email"] or any(
        r[:3] == ["4", "email", "not-an-email"] for r in rows
    )
    rejected = [r for r in rows if r[4] == "row rejected"]
    assert rejected and rejected[0][0] == "5"
    job2 = run_import("source_key,given_name\n1,=1+2\n", src=SourceSystem.objects.create(name="X"))
    DataQualityIssue.objects.create(
        source_record=SourceRecord.objects.get(source_key="1"),
        job=job2,
        line=2,
        field="given_name",
        value="=1+2",
        reason="looks like a formula",
    )
    body = b"".join(
        admin_client.get(reverse("parties:import_report", args=[job2.pk])).streaming_content
    ).decode("utf-8-sig")
    assert "'=1+2" in body and ",=1+2" not in body


def test_the_parties_changed_extension_point_hears_about_new_and_changed_parties(
    run_import, monkeypatch, django_capture_on_commit_callbacks
):
    heard = []
    monkeypatch.setattr(
        extensions, "_parties_changed_hooks", [lambda ids, reason: heard.append((ids, reason))]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_import(CANONICAL)
    assert heard and heard[0][1] == "import"
    assert set(heard[0][0]) == set(Party.objects.values_list("pk", flat=True))
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_import(CANONICAL)  # nothing changed: nobody needs re-matching
    assert heard == []


def test_a_repeated_key_is_caught_on_a_re_import_too(run_import):
    run_import(CANONICAL)
    job = run_import(CANONICAL + "c1,Anna,Again,,,,,,,\n", batch_size=2)
    assert (job.rows_unchanged, job.rows_rejected, job.rows_updated) == (3, 1, 0)
    rejection = ImportRejection.objects.get(job=job)
    assert rejection.line == 5 and "already appeared at line 2" in rejection.reason
    record = SourceRecord.objects.get(source_key="c3")
    assert (record.last_import_job_id, record.import_line) == (job.pk, 4)
