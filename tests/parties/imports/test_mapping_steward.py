"""The mapping page as a steward meets it (issue 18, points 13 and 14): headers in several
languages are recognized, an ignored column that looks like customer data is flagged before
the import starts, and a new source system is registered only when the import starts."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parties.extensions import import_kind_get
from parties.models import ImportJob, ImportStatus, SourceSystem
from parties.services.imports.jobs import (
    IgnoredColumnsError,
    ImportJobError,
    import_file_store,
    import_job_cancel,
    import_job_create,
    import_job_retry,
    import_job_start,
)
from parties.services.imports.mapping import (
    column_looks_like,
    mapping_ignored_warnings,
    mapping_propose,
    value_looks_like,
)

pytestmark = pytest.mark.django_db
KIND = import_kind_get("parties")

# The file of the issue: a German shop's export, 12 columns.
GERMAN = (
    "Kundennr;Anrede;Vorname;Nachname;Geburtsdatum;E-Mail-Adresse;Mobil;Telefon;Straße;"
    "Hausnummer;PLZ;Ort\n"
    "K-1;Frau;Anna;Müller;03.04.1980;anna.mueller@example.de;0151 2345678;030 1234567;"
    "Hauptstraße;5;10115;Berlin\n"
    "K-2;Herr;Jörg;Schmidt;12.11.1975;j.schmidt@example.de;0170 9876543;089 7654321;"
    "Lindenweg;12a;80331;München\n"
)


def test_it_recognizes_the_german_headers_of_the_issue():
    headers = GERMAN.splitlines()[0].split(";")
    assert mapping_propose(headers, kind=KIND) == {
        "source_key": ["Kundennr"],
        "salutation": ["Anrede"],
        "given_name": ["Vorname"],
        "family_name": ["Nachname"],
        "birth_date": ["Geburtsdatum"],
        "email": ["E-Mail-Adresse"],
        "phone": ["Mobil"],
        "phone_2": ["Telefon"],  # a second phone column takes the second slot
        "address_line1": ["Straße", "Hausnummer"],  # the house number joins the street
        "postal_code": ["PLZ"],
        "city": ["Ort"],
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            [
                "N° client",
                "Prénom",
                "Nom",
                "Courriel",
                "Portable",
                "Code postal",
                "Ville",
                "Date de naissance",
            ],
            {
                "source_key": ["N° client"],
                "given_name": ["Prénom"],
                "family_name": ["Nom"],
                "email": ["Courriel"],
                "phone": ["Portable"],
                "postal_code": ["Code postal"],
                "city": ["Ville"],
                "birth_date": ["Date de naissance"],
            },
        ),
        (
            [
                "Nombre",
                "Apellidos",
                "Correo electrónico",
                "Móvil",
                "Teléfono",
                "Código Postal",
                "Fecha de nacimiento",
                "Ciudad",
            ],
            {
                "given_name": ["Nombre"],
                "family_name": ["Apellidos"],
                "email": ["Correo electrónico"],
                "phone": ["Móvil"],
                "phone_2": ["Teléfono"],
                "postal_code": ["Código Postal"],
                "birth_date": ["Fecha de nacimiento"],
                "city": ["Ciudad"],
            },
        ),
        (
            [
                "Klantnummer",
                "Voornaam",
                "Achternaam",
                "Geboortedatum",
                "E-mailadres",
                "Mobiel",
                "Postcode",
                "Woonplaats",
                "Straat",
                "Huisnummer",
            ],
            {
                "source_key": ["Klantnummer"],
                "given_name": ["Voornaam"],
                "family_name": ["Achternaam"],
                "birth_date": ["Geboortedatum"],
                "email": ["E-mailadres"],
                "phone": ["Mobiel"],
                "postal_code": ["Postcode"],
                "city": ["Woonplaats"],
                "address_line1": ["Straat", "Huisnummer"],
            },
        ),
        (
            [
                "Customer No",
                "Forename",
                "Surname",
                "E-mail Address",
                "Mobile Number",
                "Home Phone",
                "ZIP/Postal Code",
                "Town/City",
                "D.O.B.",
            ],
            {
                "source_key": ["Customer No"],
                "given_name": ["Forename"],
                "family_name": ["Surname"],
                "email": ["E-mail Address"],
                "phone": ["Mobile Number"],
                "phone_2": ["Home Phone"],
                "postal_code": ["ZIP/Postal Code"],
                "city": ["Town/City"],
                "birth_date": ["D.O.B."],
            },
        ),
    ],
    ids=["french", "spanish", "dutch", "english"],
)
def test_it_recognizes_common_headers_in_several_languages(headers, expected):
    assert mapping_propose(headers, kind=KIND) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("anna@example.de", "email"),
        ("03.04.1980", "date"),
        ("1980-04-03", "date"),
        ("4/3/80", "date"),
        ("0151 2345678", "phone"),
        ("+49 (30) 123-4567", "phone"),
        ("10115", "postal_code"),
        ("1012 AB", "postal_code"),
        ("SW1A 1AA", "postal_code"),
        ("Anna", None),
        ("12a", None),
        ("5", None),
        ("19.99", None),
        ("hello world", None),
        ("", None),
    ],
)
def test_it_tells_what_a_value_looks_like(value, kind):
    assert value_looks_like(value) == kind


def test_a_column_looks_like_something_only_when_most_of_its_values_do():
    assert column_looks_like(["a@x.de", "b@y.fr", "", "c@z.es"]) == ("email", 3, 3)
    assert column_looks_like(["a@x.de", "Anna", "Bob"]) is None  # one in three
    assert column_looks_like(["", " "]) is None


def test_an_ignored_column_of_emails_or_phones_is_flagged_a_mapped_or_plain_one_is_not():
    headers = ["id", "Kontakt", "Handynr.", "Notiz", "Seit"]
    samples = [
        {"id": "1", "Kontakt": "ann@x.de", "Handynr.": "0151 2345678", "Notiz": "VIP", "Seit": "01.02.2020"},
        {"id": "2", "Kontakt": "bo@y.de", "Handynr.": "0170 9876543", "Notiz": "", "Seit": "05.06.2021"},
    ]
    warnings = mapping_ignored_warnings(
        {"source_key": ["id"], "phone": ["Handynr."]}, headers=headers, samples=samples
    )
    assert [(w.column, w.looks_like, w.matching, w.sampled) for w in warnings] == [
        ("Kontakt", "email", 2, 2),
        ("Seit", "date", 2, 2),
    ]
    assert (
        "column 'Kontakt' is ignored, but 2 of its 2 sample values look like email addresses"
        in warnings[0].text
    )


def _draft(content: str, *, source=None, new_source=None, name="kunden.csv") -> ImportJob:
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name=name)
    return import_job_create(
        source=source, new_source=new_source, kind="parties", stored_name=stored, original_name=name
    )


def test_starting_with_an_ignored_email_column_refuses_until_confirmed_or_mapped(source, media):
    job = _draft(GERMAN, source=source)
    mapping = {k: v for k, v in job.mapping.items() if k != "email"}
    with pytest.raises(IgnoredColumnsError) as refused:
        import_job_start(job=job, mapping=mapping, confirmed_ignored=[], enqueue=False)
    assert [c.column for c in refused.value.columns] == ["E-Mail-Adresse"]
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT  # nothing started

    job = import_job_start(job=job, mapping=mapping, confirmed_ignored=["E-Mail-Adresse"], enqueue=False)
    assert job.status == ImportStatus.QUEUED and "email" not in job.mapping


def test_a_mapped_column_needs_no_confirmation_and_the_api_checks_nothing(source, media):
    job = _draft(GERMAN, source=source)
    assert import_job_start(job=job, confirmed_ignored=[], enqueue=False).status == ImportStatus.QUEUED
    other = _draft(GERMAN, source=source)
    # an explicit mapping given by a program (API, command line): no confirmation is asked
    started = import_job_start(job=other, mapping={"source_key": ["Kundennr"]}, enqueue=False)
    assert started.status == ImportStatus.QUEUED


def test_a_new_source_system_is_registered_when_the_import_starts_not_on_upload(media):
    job = _draft(GERMAN, new_source={"name": " Shop  DE ", "default_region": "de", "date_order": "DMY"})
    assert not SourceSystem.objects.exists()
    assert job.source_system is None and job.new_source == {
        "name": "Shop DE",
        "default_region": "DE",
        "date_order": "DMY",
    }
    job = import_job_start(job=job, enqueue=False)
    source = SourceSystem.objects.get()
    assert job.source_system == source
    assert (source.name, source.default_region, source.date_order) == ("Shop DE", "DE", "DMY")


def test_an_abandoned_or_discarded_upload_registers_no_source_system(media):
    job = _draft(GERMAN, new_source={"name": "Shop DE", "default_region": "DE", "date_order": "DMY"})
    import_job_cancel(job=job)
    assert not SourceSystem.objects.exists()
    with pytest.raises(ImportJobError, match="only a failed, cancelled or abandoned job"):
        import_job_retry(job=job, enqueue=False)  # a discarded draft never runs without its source


@pytest.mark.parametrize(
    ("new_source", "message"),
    [
        ({"name": "Shop", "default_region": "", "date_order": "DMY"}, "phone region ''"),
        ({"name": "Shop", "default_region": "DE", "date_order": ""}, "date order ''"),
        ({"name": "Web Shop", "default_region": "DE", "date_order": "DMY"}, "already exists"),
    ],
)
def test_a_new_source_needs_a_free_name_a_phone_region_and_a_date_order(source, media, new_source, message):
    with pytest.raises(ImportJobError, match=message):
        _draft(GERMAN, new_source=new_source)
    assert not ImportJob.objects.exists() and SourceSystem.objects.count() == 1


def test_a_source_of_the_same_name_registered_meanwhile_stops_the_start(media):
    job = _draft(GERMAN, new_source={"name": "Shop DE", "default_region": "DE", "date_order": "DMY"})
    SourceSystem.objects.create(name="shop de")
    with pytest.raises(ImportJobError, match="was registered since this file was uploaded"):
        import_job_start(job=job, enqueue=False)
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT and job.source_system is None


def _upload(client, content: str, **extra):
    return client.post(
        reverse("parties:import_new"),
        {"kind": "parties", **extra, "file": SimpleUploadedFile("kunden.csv", content.encode())},
    )


def test_the_upload_form_asks_for_the_new_sources_phone_region_and_date_order(role_client, media):
    client = role_client("administrator")
    page = client.get(reverse("parties:import_new"))
    form = page.context["form"]
    assert not form["new_source_region"].value() and not form["new_source_date_order"].value()
    response = _upload(client, GERMAN, new_source="Shop DE")
    errors = response.context["form"].errors
    assert "phone numbers" in errors["new_source_region"][0]
    assert "writes dates" in errors["new_source_date_order"][0]
    assert not ImportJob.objects.exists() and not SourceSystem.objects.exists()


def test_the_mapping_page_warns_of_an_ignored_email_column_before_starting(role_client, media):
    client = role_client("administrator")
    response = _upload(
        client, GERMAN, new_source="Shop DE", new_source_region="DE", new_source_date_order="DMY"
    )
    assert not SourceSystem.objects.exists()  # named, not registered
    url = response["Location"]
    page = client.get(url)
    assert [c["header"] for c in page.context["columns"]] == GERMAN.splitlines()[0].split(";")
    assert not page.context["warnings"]  # every column that looks like data is mapped
    posted = {
        f"col_{i}": field.value() or "" for i, (_, field) in enumerate(page.context["form"].column_fields())
    }
    posted["col_5"] = ""  # the steward (or an old saved mapping) leaves E-Mail-Adresse out
    response = client.post(url, posted)
    assert response.status_code == 200
    assert [w.column for w in response.context["unconfirmed"]] == ["E-Mail-Adresse"]
    assert "look like email addresses" in response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DRAFT and not SourceSystem.objects.exists()

    response = client.post(url, {**posted, "confirm_ignored": "E-Mail-Adresse"})
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == ImportStatus.QUEUED
    assert "email" not in job.mapping
    assert SourceSystem.objects.get().name == "Shop DE" == job.source_system.name


def test_erasure_finds_the_customer_in_a_draft_that_names_a_new_source(run_import, media):
    from consents.services.erasure.files import files_plan, person_of
    from parties.models import SourceRecord

    run_import("source_key,given_name,family_name,birth_date\nA-1,Anna,Müller,03.04.1980\n")
    party_id = SourceRecord.objects.get().party_id
    # uploaded into a source system not registered yet: its rows are read with the settings
    # the draft names (day/month/year here), as the import would read them
    draft = _draft(GERMAN, new_source={"name": "Shop DE", "default_region": "DE", "date_order": "DMY"})
    plans = {plan.job.pk: plan for plan in files_plan(person_of([party_id]))}
    assert plans[draft.pk].lines == {2}
