"""CSV dialects and encodings, XLSX and JSON Lines all arrive as the same parties."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook

from parties.models import ContactPointEmail, ImportRejection, Party, SourceRecord

pytestmark = pytest.mark.django_db


def _names() -> set[str]:
    return set(Party.objects.values_list("display_name", flat=True))


def test_it_reads_utf8_with_a_bom_and_semicolons(run_import):
    job = run_import("\ufeffsource_key;given_name;family_name\n1;Jörg;Müller\n2;Zoë;Ñúñez\n")
    assert (job.status, job.rows_created, job.delimiter) == ("succeeded", 2, ";")
    assert _names() == {"Jörg Müller", "Zoë Ñúñez"}


def test_it_reads_windows_1252(run_import):
    content = "source_key\tgiven_name\tfamily_name\n1\tRené\tDupré\n".encode("cp1252")
    job = run_import(content)
    assert (job.status, job.encoding, job.delimiter) == ("succeeded", "cp1252", "\t")
    assert _names() == {"René Dupré"}


def test_it_reads_quoted_fields_and_counts_physical_lines(run_import):
    content = (
        "source_key,given_name,address_line1,email\n"
        '1,Ann,"12 Main St, Apt 4",ann@example.com\n'
        '2,Bo,"line one\nline two",bo@example.com\n'
        ",Cy,x,cy@example.com\n"
    )
    job = run_import(content)
    assert job.rows_created == 2
    rejection = ImportRejection.objects.get()
    assert rejection.line == 5  # row 2 spans lines 3-4
    assert SourceRecord.objects.get(source_key="1").raw_payload["address_line1"] == "12 Main St, Apt 4"


def test_it_rejects_a_row_with_the_wrong_number_of_fields(run_import):
    job = run_import("source_key,given_name\n1,Ann\n2,Bo,extra\n")
    assert job.rows_created == 1 and job.rows_rejected == 1
    assert ImportRejection.objects.get().reason == "the row has 3 fields, the header has 2"


def test_it_reads_an_xlsx_workbook(run_import):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Customer ID", "First name", "Last name", "Date of birth", "Zip"])
    sheet.append([1001, "Ann", "Lee", __import__("datetime").datetime(1980, 5, 17), 10115])
    sheet.append([1002, "Bo", "Kim", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = run_import(buffer.getvalue(), name="export.xlsx")
    assert (job.status, job.file_format, job.rows_created) == ("succeeded", "xlsx", 2)
    ann = Party.objects.get(given_name="Ann")
    assert ann.birth_date.isoformat() == "1980-05-17"
    assert SourceRecord.objects.get(party=ann).source_key == "1001"


def test_it_reads_json_lines_and_rejects_a_broken_line(run_import):
    lines = [
        json.dumps({"source_key": "a1", "given_name": "Ann", "email": "ANN@x.org"}),
        "{not json",
        json.dumps({"source_key": "a2", "family_name": "Bo", "tags": ["vip", "eu"]}),
    ]
    job = run_import("\n".join(lines) + "\n", name="people.jsonl")
    assert (job.file_format, job.rows_created, job.rows_rejected) == ("jsonl", 2, 1)
    assert ImportRejection.objects.get().line == 2
    assert ContactPointEmail.objects.get().normalized == "ann@x.org"
    assert SourceRecord.objects.get(source_key="a2").raw_payload["tags"] == '["vip", "eu"]'
