"""The import pages: who may use them, upload errors, the mapping form, progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parties.models import ImportJob, ImportStatus, SourceSystem

pytestmark = pytest.mark.django_db


def _upload(client, content: bytes, name: str = "customers.csv", **extra):
    if "new_source" in extra:  # a new source's phone region and date order are asked for
        extra = {"new_source_region": "DE", "new_source_date_order": "DMY", **extra}
    data = {"kind": "parties", "file": SimpleUploadedFile(name, content), **extra}
    return client.post(reverse("parties:import_new"), data)


@pytest.mark.parametrize(("role", "status"), [("marketing", 200), ("steward", 403), ("administrator", 200)])
def test_administrators_upload_any_file_marketing_only_consent_lists(role_client, role, status):
    page = role_client(role).get(reverse("parties:import_new"))
    assert page.status_code == status
    if role == "marketing":
        assert [k for k, _ in page.context["form"].fields["kind"].choices] == ["consents"]
        assert "new_source" not in page.context["form"].fields  # nor may it register source systems


def test_stewards_read_every_import_report_marketing_only_consent_lists(role_client, run_import, media):
    parties_job = run_import("source_key,given_name\n1,Ann\n")
    assert role_client("steward").get(reverse("parties:imports")).status_code == 200
    marketing = role_client("marketing")
    assert marketing.get(reverse("parties:imports")).status_code == 200
    assert parties_job.pk not in [j.pk for j in marketing.get(reverse("parties:imports")).context["jobs"]]
    assert marketing.get(reverse("parties:import_detail", args=[parties_job.pk])).status_code == 403
    assert marketing.get(reverse("parties:import_report", args=[parties_job.pk])).status_code == 403
    assert marketing.post(reverse("parties:import_retry", args=[parties_job.pk])).status_code == 403
    refused = marketing.post(
        reverse("parties:import_new"),
        {
            "kind": "parties",
            "source": parties_job.source_system_id,
            "file": SimpleUploadedFile("x.csv", b"a\n1\n"),
        },
    )
    assert refused.status_code == 200 and "kind" in refused.context["form"].errors
    assert ImportJob.objects.count() == 1


def test_an_upload_goes_to_the_mapping_page_with_a_proposal(role_client, media):
    client = role_client("administrator")
    response = _upload(client, b"Kundennr;Vorname;E-Mail;Notiz\n1;Ann;ann@x.de;hi\n", new_source="Shop DE")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "parties:import_mapping", args=[job.pk]
    )
    assert job.status == ImportStatus.DRAFT and job.source_system is None  # registered on start
    assert job.new_source == {"name": "Shop DE", "default_region": "DE", "date_order": "DMY"}
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"ann@x.de" in page.content  # the preview
    form = page.context["form"]
    assert [f.value() for _, f in form.column_fields()] == ["source_key", "given_name", "email", ""]


def test_starting_from_the_mapping_page_queues_the_job_with_the_edited_mapping(role_client, media):
    client = role_client("administrator")
    _upload(client, b"id,a,b\n1,Ann,Lee\n", new_source="S")
    job = ImportJob.objects.get()
    response = client.post(
        reverse("parties:import_mapping", args=[job.pk]),
        {"col_0": "source_key", "col_1": "given_name", "col_2": "family_name", "save_mapping": "on"},
    )
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == ImportStatus.QUEUED
    assert job.mapping == {"source_key": ["id"], "given_name": ["a"], "family_name": ["b"]}
    assert job.source_system.column_mappings["parties"] == job.mapping


def test_a_mapping_without_a_source_key_says_so_and_does_not_start(role_client, media):
    client = role_client("administrator")
    _upload(client, b"id,a\n1,Ann\n", new_source="S")
    job = ImportJob.objects.get()
    response = client.post(
        reverse("parties:import_mapping", args=[job.pk]), {"col_0": "", "col_1": "given_name"}
    )
    assert response.status_code == 200
    assert "no column is mapped to &#x27;source_key&#x27;" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_a_bad_file_is_refused_on_the_upload_form_and_nothing_is_kept(role_client, media):
    response = _upload(role_client("administrator"), b"a,a\n1,2\n", new_source="Never")
    assert response.status_code == 200
    assert "duplicate column name" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists() and not SourceSystem.objects.filter(name="Never").exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_an_upload_over_the_limit_is_stopped_with_a_message(role_client, media, settings):
    settings.C360_UPLOAD_MAX_BYTES = 1000
    response = _upload(role_client("administrator"), b"source_key,x\n" + b"1,aaaa\n" * 400, new_source="Big")
    assert response.status_code == 200
    assert "larger than the" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_the_upload_form_names_a_missing_source_system(role_client, media):
    response = _upload(role_client("administrator"), b"source_key\n1\n")
    assert "Choose the source system" in response.context["form"].errors["source"][0]


def test_the_progress_fragment_shows_counts_and_asks_for_a_refresh_when_done(role_client, run_import):
    job = run_import("source_key,given_name\n1,Ann\n2,Bo\n")
    client = role_client("steward")
    response = client.get(reverse("parties:import_progress", args=[job.pk]), {"polling": "1"})
    assert response["HX-Refresh"] == "true"
    assert b'data-testid="rows-created">2<' in response.content
    assert b'aria-valuenow="100"' in response.content
    detail = client.get(reverse("parties:import_detail", args=[job.pk]))
    assert detail.status_code == 200 and b"hx-trigger" not in detail.content


def test_the_canonical_template_downloads_and_imports_without_a_mapping(role_client, run_import):
    response = role_client("administrator").get(reverse("parties:import_template", args=["parties"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"source_key,party_type,salutation,given_name")
    job = run_import(content)
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 4, 0)
    from parties.models import Party

    adams = Party.objects.get(family_name="Adams")
    assert (adams.salutation, adams.given_name, adams.middle_name, adams.name_suffix) == (
        "Dr.",
        "John",
        "Quincy",
        "Jr.",
    )
    acme = Party.objects.get(kind="organization")
    assert acme.display_name == "Acme GmbH"
    assert acme.identifications.get().normalized == "DE123456789"


def test_the_upload_form_offers_every_file_kind_and_starts_with_customers(role_client):
    from django.urls import reverse

    page = role_client("administrator").get(reverse("parties:import_new")).content.decode()
    assert '<option value="consents">Consents (opt-ins and opt-outs)</option>' in page
    assert '<option value="parties" selected>Customers (parties)</option>' in page
