"""One ``import_submit`` behind the upload page, the API and ``manage.py import_source``
(issue 19 item 8): where the three differed, the stricter rule now holds for each, and a refusal
leaves nothing behind. Files go through the storage API, so they may live in object storage."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from openpyxl import Workbook

from parties.models import ImportJob, ImportStatus, Party, SourceSystem
from parties.services.imports.jobs import ImportJobError, import_job_run
from parties.services.imports.submit import import_submit
from tests.api.conftest import api  # noqa: F401 — the API client fixture
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db

CSV = b"source_key,given_name,email\n1,Ann,ann@example.org\n2,Bo,bo@example.org\n"


def _nothing_kept(media) -> bool:
    return not ImportJob.objects.exists() and not (
        media.exists() and any(p.is_file() for p in media.rglob("*"))
    )


def _api_post(client, content: bytes = CSV, source: str = "CRM", **extra):
    return client.post(
        "/api/v1/imports/",
        {"source_system": source, "kind": "parties", "file": SimpleUploadedFile("c.csv", content), **extra},
        format="multipart",
    )


def _page_post(client, content: bytes = CSV, **extra):
    data = {"kind": "parties", "file": SimpleUploadedFile("c.csv", content), **extra}
    return client.post(reverse("parties:import_new"), data)


def _command(tmp_path, *args: str, content: bytes = CSV) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    call_command("import_source", str(path), *args, "--sync", stdout=io.StringIO())


# --- an inactive source system: the page and the API never offered it; the command imported into it


def test_the_command_refuses_an_inactive_source_system(tmp_path, media):
    SourceSystemFactory(name="Old CRM", is_active=False)
    with pytest.raises(CommandError, match="'Old CRM' is inactive"):
        _command(tmp_path, "--source", "Old CRM")
    assert _nothing_kept(media) and not Party.objects.exists()


def test_the_api_refuses_an_inactive_source_system(api, media):  # noqa: F811
    SourceSystemFactory(name="CRM", is_active=False)
    response = _api_post(api("administrator"))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["source_system"]
    assert _nothing_kept(media)


def test_the_upload_page_refuses_an_inactive_source_system(role_client, media):
    old = SourceSystemFactory(name="Old CRM", is_active=False)
    response = _page_post(role_client("administrator"), source=old.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["source"]
    assert _nothing_kept(media)


def test_the_service_refuses_an_inactive_source_system_for_every_caller(administrator, media):
    # the page and the API check it in their input; the service checks it too (a system
    # deactivated while the upload was being read)
    old = SourceSystemFactory(name="Old CRM", is_active=False)
    with pytest.raises(ImportJobError, match="'Old CRM' is inactive"):
        import_submit(
            stream=io.BytesIO(CSV), original_name="c.csv", kind="parties", source=old, user=administrator
        )
    assert _nothing_kept(media)


# --- a mapping refused when the job starts: the API left a draft job and its file behind


def test_the_api_keeps_nothing_of_an_upload_whose_mapping_is_refused(api, media):  # noqa: F811
    SourceSystemFactory(name="CRM")
    response = _api_post(api("administrator"), mapping=json.dumps({"source_key": ["Kundennr"]}))
    assert response.status_code == 400
    assert "Kundennr" in response.json()["errors"]["mapping"][0]
    assert _nothing_kept(media)  # was a draft job with its stored file


def test_the_command_keeps_nothing_of_a_file_whose_mapping_is_refused(tmp_path, media):
    mapping = tmp_path / "m.json"
    mapping.write_text('{"source_key": "Kundennr"}')
    with pytest.raises(CommandError, match="names column 'Kundennr'"):
        _command(tmp_path, "--source", "Shell CRM", "--mapping", str(mapping))
    assert _nothing_kept(media) and not SourceSystem.objects.filter(name="Shell CRM").exists()


# --- a new source system: the page asked for a real phone region and a name no system has
# (in any case); the command registered "crm" beside "CRM", and a region such as "ZZ"


def test_the_command_refuses_a_new_source_named_like_an_existing_one(tmp_path, media):
    SourceSystemFactory(name="CRM")
    with pytest.raises(CommandError, match="a source system named 'crm' already exists"):
        _command(tmp_path, "--source", "crm")
    assert list(SourceSystem.objects.values_list("name", flat=True)) == ["CRM"]
    assert _nothing_kept(media)


def test_the_upload_page_refuses_a_new_source_named_like_an_existing_one(role_client, media):
    SourceSystemFactory(name="CRM")
    response = _page_post(
        role_client("administrator"), new_source="crm", new_source_region="DE", new_source_date_order="DMY"
    )
    assert "already exists" in response.context["form"].errors["new_source"][0]
    assert _nothing_kept(media)


def test_the_command_refuses_a_phone_region_that_is_not_a_country(tmp_path, media):
    with pytest.raises(CommandError, match="phone region 'ZZ' is not an ISO country code"):
        _command(tmp_path, "--source", "Shell CRM", "--region", "ZZ")
    assert not SourceSystem.objects.filter(name="Shell CRM").exists()
    assert _nothing_kept(media)


def test_the_upload_page_refuses_a_phone_region_that_is_not_a_country(role_client, media):
    response = _page_post(
        role_client("administrator"), new_source="Shop", new_source_region="ZZ", new_source_date_order="DMY"
    )
    assert "not an ISO country code" in response.context["form"].errors["new_source_region"][0]
    assert _nothing_kept(media)


def test_the_command_still_registers_a_new_source_and_says_so(tmp_path, media):
    path = tmp_path / "c.csv"
    path.write_bytes(CSV)
    out = io.StringIO()
    call_command("import_source", str(path), "--source", "Shell CRM", "--region", "de", "--sync", stdout=out)
    assert "Created source system 'Shell CRM'." in out.getvalue()
    source = SourceSystem.objects.get(name="Shell CRM")
    assert (source.default_region, source.date_order) == ("DE", "YMD")
    assert Party.objects.count() == 2


# --- the service must be its own transaction (durable), and so must an import's run


def test_submitting_inside_another_transaction_is_refused_and_keeps_no_file(administrator, media):
    source = SourceSystemFactory(name="CRM")
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        import_submit(stream=io.BytesIO(CSV), original_name="c.csv", kind="parties", source=source)
    assert _nothing_kept(media)


def test_running_an_import_inside_another_transaction_is_refused_before_it_claims_the_job(media):
    source = SourceSystemFactory(name="CRM")
    job = import_submit(
        stream=io.BytesIO(CSV),
        original_name="c.csv",
        kind="parties",
        source=source,
        start=True,
        enqueue=False,
    )
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.QUEUED, 0)


# --- object storage: nothing assumes a local path


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["source_key", "given_name", "email"])
    sheet.append(["1", "Ann", "ann@example.org"])
    sheet.append(["2", "Bo", "bo@example.org"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content"), [("c.csv", CSV), ("c.xlsx", _xlsx())], ids=["csv", "xlsx"])
def test_an_import_runs_from_a_storage_without_local_paths(settings, media, role_client, name, content):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    from django.core.files.storage import default_storage

    source = SourceSystemFactory(name="CRM")
    client = role_client("administrator")
    response = client.post(
        reverse("parties:import_new"),
        {"kind": "parties", "source": source.pk, "file": SimpleUploadedFile(name, content)},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and default_storage.exists(job.file.name)
    mapping_page = client.get(reverse("parties:import_mapping", args=[job.pk]))
    assert mapping_page.status_code == 200 and len(mapping_page.context["preview"]) == 2
    job = import_job_run(
        job_id=import_submit(
            stream=io.BytesIO(content),
            original_name=name,
            kind="parties",
            source=source,
            start=True,
            enqueue=False,
        ).pk
    )
    assert (job.status, job.rows_created, job.file_size) == (ImportStatus.SUCCEEDED, 2, len(content))
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
