"""Hostile uploads through the API (issue 16, items 6-9 and 11): the same refusals as the upload
form, in the API's error shape, with the limit named; bad lines are rejected lines."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parties.models import ImportJob
from parties.services.imports.jobs import import_job_run
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _nothing_kept(media) -> bool:
    return not ImportJob.objects.exists() and not (
        media.exists() and any(p.is_file() for p in media.rglob("*"))
    )


def _post(client, content: bytes, name: str = "c.csv", kind: str = "parties"):
    return client.post(
        "/api/v1/imports/",
        {"source_system": "CRM", "kind": kind, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.fixture
def crm(db):
    return SourceSystemFactory(name="CRM")


@pytest.mark.parametrize("over", [10, 1024 * 1024 + 10_000], ids=["just over", "more than 1 MiB over"])
def test_an_upload_over_the_size_limit_is_a_413_naming_the_limit(api, media, settings, crm, over):
    settings.C360_UPLOAD_MAX_BYTES = 64 * 1024
    content = b"source_key,given_name\n" + b"1,Ann\n" * ((64 * 1024 + over) // 6)
    response = _post(api("administrator"), content)
    # was a 500 (StopUpload) more than 1 MiB over, and "No file was submitted" just over
    assert response.status_code == 413, response.content
    message = response.json()["errors"]["file"][0]
    assert message.startswith("The file is larger than the 64 KB upload limit")
    assert response.json()["detail"].startswith("Invalid input — file: The file is larger")
    assert _nothing_kept(media)


def test_a_consent_file_with_20000_columns_is_refused_naming_the_column_limit(api, media, crm):
    header = ",".join(["email", "channel", "purpose", "status"] + [f"c{i}" for i in range(19_996)])
    content = (header + "\nann@x.org,email,newsletter,opt_out" + "," * 19_996 + "\n").encode()
    response = _post(api("marketing"), content, name="consents.csv", kind="consents")
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "consents.csv has 20,000 columns; at most 500 can be imported. Remove the columns you do not "
        "need (or split the file) and upload it again. Nothing was imported."
    ]
    assert _nothing_kept(media)


def test_a_json_line_nested_100000_levels_deep_is_a_rejected_line(api, media, crm):
    lines = [
        json.dumps({"source_key": "1", "given_name": "Ann"}),
        '{"source_key": "2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps({"source_key": "3", "given_name": "Cy"}),
    ]
    client = api("administrator")
    started = _post(client, ("\n".join(lines) + "\n").encode(), name="people.jsonl")
    assert started.status_code == 201, started.content
    import_job_run(job_id=started.json()["id"])
    done = client.get(started.json()["url"]).json()
    assert (done["status"], done["rows_created"], done["rows_rejected"]) == ("succeeded", 2, 1)
    errors = client.get(f"{started.json()['url']}errors/").json()
    assert [(e["line"], e["reason"]) for e in errors] == [
        (2, "the JSON is nested too deeply (more than 32 levels)")
    ]


def test_a_nul_in_a_json_lines_value_rejects_only_that_row(api, media, crm):
    content = (
        json.dumps({"source_key": "1", "given_name": "Ann"})
        + "\n"
        + '{"source_key": "2", "given_name": "B\\u0000o"}\n'
        + json.dumps({"source_key": "3", "given_name": "Cy"})
        + "\n"
    ).encode()
    client = api("administrator")
    started = _post(client, content, name="people.jsonl")
    assert started.status_code == 201
    import_job_run(job_id=started.json()["id"])
    done = client.get(started.json()["url"]).json()
    assert (done["status"], done["rows_created"], done["rows_rejected"]) == ("succeeded", 2, 1)
    assert client.get(f"{started.json()['url']}errors/").json()[0]["line"] == 2


def test_mixed_encodings_are_refused_naming_the_lines(api, media, crm):
    content = (
        "source_key,given_name,family_name\n1,René,Dupré\n".encode("cp1252") + "2,Hans,Müller\n".encode()
    )
    response = _post(api("administrator"), content)
    assert response.status_code == 400
    assert "line 3 is UTF-8 but line 2 is Windows-1252/Latin-1" in response.json()["errors"]["file"][0]
    assert _nothing_kept(media)


@pytest.mark.parametrize(
    "mapping, message",
    [
        ('{"source_key": ' + "[" * 5000 + "]" * 5000 + "}", "the JSON is nested too deeply to read."),
        (
            '{"source_key": ["source_key\\u0000"]}',
            "source_key[0] contains a NUL character (\\u0000), which text may not contain.",
        ),
    ],
    ids=["nested 5000 deep", "NUL escaped in the JSON text"],
)
def test_an_upload_whose_mapping_json_is_too_deep_or_holds_a_nul_is_a_400_naming_the_mapping(
    api, media, crm, mapping, message
):
    # the mapping is JSON text inside the multipart form, read by the serializer, not by a
    # parser: 5,000 levels deep was a 500 (RecursionError)
    response = api("administrator").post(
        "/api/v1/imports/",
        {
            "source_system": "CRM",
            "kind": "parties",
            "mapping": mapping,
            "file": SimpleUploadedFile("c.csv", b"source_key,given_name\n1,Ann\n"),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"mapping": [message]}
    assert _nothing_kept(media)
