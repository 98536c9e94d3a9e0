"""Every structural problem fails at once with a clear message and changes nothing."""

from __future__ import annotations

import io
import zipfile

import pytest

from parties.models import ImportJob, Party, SourceRecord
from parties.services.imports.mapping import MappingError
from parties.services.imports.readers import ImportFileError

pytestmark = pytest.mark.django_db


def _xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (80 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("customers.csv", b"", "customers.csv is empty"),
        ("customers.csv", b"\n\n  \n", "has no content"),
        ("customers.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        ("customers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old binary .xls"),
        ("customers.xlsx", b"just,some,text\n", "not an XLSX workbook"),
        ("customers.csv", "\ufeff".encode("utf-16"), "UTF-16"),
        ("customers.csv", b"source_key,email,Email\n1,a@b.de,c@d.de\n", "duplicate column name 'Email'"),
        ("customers.csv", b"source_key,,email\n1,x,a@b.de\n", "column 2 of the header has no name"),
        ("book.xlsx", _xlsx_bomb(), "zip bomb"),
    ],
)
def test_a_structurally_bad_file_is_refused_with_a_clear_message(run_import, name, content, message):
    with pytest.raises(ImportFileError, match=message):
        run_import(content, name=name)
    assert ImportJob.objects.count() == 0
    assert SourceRecord.objects.count() == Party.objects.count() == 0


def test_a_file_without_a_source_key_column_is_refused(run_import):
    with pytest.raises(MappingError, match="no column is mapped to 'source_key'"):
        run_import("name,email\nAnn,ann@example.com\n")
    assert SourceRecord.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(run_import, settings):
    settings.C360_UPLOAD_MAX_BYTES = 50
    with pytest.raises(ImportFileError, match="the limit is"):
        run_import("source_key,given_name\n" + "1,Ann\n" * 20)
    assert ImportJob.objects.count() == 0


def test_undecodable_bytes_near_the_top_are_refused_at_upload(run_import):
    content = "source_key,given_name\n1,Jürgen\n".encode() + b"2,Bad\xff\n"
    with pytest.raises(ImportFileError, match="undecodable byte 0xff at line 3"):
        run_import(content)
    assert ImportJob.objects.count() == 0


def test_undecodable_bytes_deep_in_the_file_fail_the_job_before_anything_is_written(run_import):
    # valid UTF-8 (with umlauts) beyond the part read at upload, then a byte that is not UTF-8
    rows = "".join(f"{i},Jürgen{i:06d}\n" for i in range(30_000))
    content = ("source_key,given_name\n" + rows).encode("utf-8") + b"9999999,Bad\xff\n"
    job = run_import(content, batch_size=100)
    assert job.status == "failed"
    assert "undecodable byte 0xff at line 30002" in job.error
    assert SourceRecord.objects.count() == 0 and Party.objects.count() == 0


def test_a_mapping_naming_a_missing_column_is_refused(run_import):
    with pytest.raises(MappingError, match="names column 'Kundennr', which the file does not have"):
        run_import("id,given_name\n1,Ann\n", mapping={"source_key": ["Kundennr"]})
