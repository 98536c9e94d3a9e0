"""Column mapping: proposals from header names, combining columns, saving per source."""

from __future__ import annotations

import io

import pytest

from parties.extensions import import_kind_get
from parties.models import Party, SourceRecord
from parties.services.imports.jobs import import_file_store, import_job_create, import_job_start
from parties.services.imports.mapping import MappingError, mapping_clean, mapping_propose

pytestmark = pytest.mark.django_db
KIND = import_kind_get("parties")


def test_it_proposes_canonical_names_and_common_synonyms():
    headers = ["Kundennr", "E-Mail", "Surname", "Vorname", "ZIP", "Mobile", "Notes", "source_key2"]
    proposal = mapping_propose(headers, kind=KIND)
    assert proposal == {
        "source_key": ["Kundennr"],
        "email": ["E-Mail"],
        "family_name": ["Surname"],
        "given_name": ["Vorname"],
        "postal_code": ["ZIP"],
        "phone": ["Mobile"],
    }


def test_a_saved_mapping_wins_where_its_columns_are_in_the_file():
    saved = {"source_key": ["Nr"], "address_line1": ["Hausnr", "Strasse"], "city": ["Gone"]}
    proposal = mapping_propose(["Nr", "Strasse", "Hausnr", "Ort"], kind=KIND, saved=saved)
    assert proposal == {"source_key": ["Nr"], "address_line1": ["Hausnr", "Strasse"], "city": ["Ort"]}


def test_it_names_the_wrong_field_of_a_mapping():
    with pytest.raises(MappingError, match="unknown target field 'shoe_size'"):
        mapping_clean({"source_key": "id", "shoe_size": "x"}, headers=["id", "x"], kind=KIND)
    with pytest.raises(MappingError, match="field 'city': give a column name"):
        mapping_clean({"source_key": "id", "city": 3}, headers=["id"], kind=KIND)


def test_combined_columns_are_joined_and_the_mapping_is_saved_for_the_next_file(run_import, source, media):
    content = "Nr,Hausnr,Strasse,Vorname\n7,12,Main Street,Ann\n"
    mapping = {"source_key": ["Nr"], "address_line1": ["Hausnr", "Strasse"], "given_name": ["Vorname"]}
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name="a.csv")
    job = import_job_create(source=source, kind="parties", stored_name=stored, original_name="a.csv")
    import_job_start(job=job, mapping=mapping, save_mapping=True, enqueue=False)
    source.refresh_from_db()
    assert source.column_mappings["parties"] == mapping

    from parties.services.imports.jobs import import_job_run

    import_job_run(job_id=job.pk)
    party = Party.objects.get()
    assert party.addresses.get().line1 == "12 Main St"

    # the next file from this source starts with the saved mapping
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name="b.csv")
    next_job = import_job_create(source=source, kind="parties", stored_name=stored, original_name="b.csv")
    assert next_job.mapping == mapping


def test_remapping_a_file_re_standardizes_its_rows(run_import):
    run_import("id,name_a,name_b\n1,Ann,Lee\n", mapping={"source_key": ["id"], "given_name": ["name_a"]})
    job = run_import(
        "id,name_a,name_b\n1,Ann,Lee\n",
        mapping={"source_key": ["id"], "given_name": ["name_a"], "family_name": ["name_b"]},
    )
    assert job.rows_updated == 1
    assert SourceRecord.objects.get().party.display_name == "Ann Lee"
