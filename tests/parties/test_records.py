"""From raw canonical rows to parties: standardization and bulk creation."""

from __future__ import annotations

import pytest

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyIdentification,
    SourceRecord,
    Validity,
)
from parties.services.party_create import parties_create_from_rows
from parties.services.records import (
    NewRecord,
    content_hash,
    row_standardize,
)
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db

ROW = {
    "source_key": "C-1",
    "given_name": "  MARIE ",
    "family_name": "curie",
    "birth_date": "07/11/1867",
    "gender": "F",
    "email": "Marie.Curie@Example.FR",
    "email_2": "marie.curie@example.fr",
    "phone": "06 12 34 56 78",
    "address_line1": "11 rue pierre et marie curie",
    "postal_code": "75005",
    "city": "PARIS",
    "country": "France",
    "identifier_type": "customer_number",
    "identifier_value": "cu-0001",
    "updated_at": "2025-03-01T10:00:00Z",
}


@pytest.fixture
def source():
    return SourceSystemFactory(name="French CRM", default_region="FR", date_order="DMY")


def test_it_standardizes_a_canonical_row(source):
    row = row_standardize(ROW, source=source)
    assert row.kind == "individual"
    assert row.attributes["given_name"] == "Marie"
    assert row.attributes["family_name"] == "Curie"
    assert row.attributes["birth_date"] == "1867-11-07"
    assert row.attributes["gender"] == "female"
    assert [e["normalized"] for e in row.emails] == ["marie.curie@example.fr"] * 2
    assert row.phones[0]["normalized"] == "+33612345678"
    assert row.address["country"] == "FR" and row.address["city"] == "Paris"
    assert row.identifier == {"type": "customer_number", "raw": "cu-0001", "normalized": "CU0001"}
    assert row.source_updated_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert row.problems == []


def test_it_splits_a_full_name_when_given_and_family_are_absent(source):
    row = row_standardize({"source_key": "2", "full_name": "Dr. John Quincy Adams Jr."}, source=source)
    attrs = row.attributes
    assert (
        attrs["salutation"],
        attrs["given_name"],
        attrs["middle_name"],
        attrs["family_name"],
        attrs["name_suffix"],
    ) == ("Dr.", "John", "Quincy", "Adams", "Jr.")


def test_it_reads_a_row_with_only_an_organization_name_as_an_organization(source):
    row = row_standardize({"source_key": "3", "organization_name": "ACME GMBH"}, source=source)
    assert row.kind == "organization" and row.attributes["organization_name"] == "Acme GmbH"


def test_it_keeps_unreadable_values_and_reports_each_with_its_field(source):
    row = row_standardize(
        {
            "source_key": "4",
            "given_name": "Al",
            "birth_date": "31/02/1999",
            "email": "not-an-email",
            "phone": "12",
            "country": "Atlantis",
            "gender": "?",
        },
        source=source,
    )
    assert {p.field for p in row.problems} == {"birth_date", "email", "phone", "country", "gender"}
    assert row.emails[0]["normalized"] == "not-an-email"


def test_it_creates_a_party_with_its_source_record_and_contact_points(source):
    # When one row is turned into a new party
    [record] = parties_create_from_rows(
        source=source, records=[NewRecord(ROW, row_standardize(ROW, source=source))]
    )

    # Then the raw row is kept verbatim beside the standardized values
    record = SourceRecord.objects.get(pk=record.pk)
    assert record.raw_payload == ROW
    assert record.content_hash == content_hash(ROW)
    assert record.standardized["attributes"]["family_name"] == "Curie"
    party = Party.objects.get(pk=record.party_id)
    assert party.display_name == "Marie Curie"
    assert party.birth_date.isoformat() == "1867-11-07"
    # the two spellings of one email became one contact point, linked to its source record
    email = ContactPointEmail.objects.get(party=party)
    assert (email.normalized, email.is_primary, email.validity) == (
        "marie.curie@example.fr",
        True,
        Validity.VALID,
    )
    assert email.reporting_records() == [record]
    assert ContactPointPhone.objects.get(party=party).normalized == "+33612345678"
    address = ContactPointAddress.objects.get(party=party)
    assert (address.line1, address.postal_code, address.country) == (
        "11 Rue Pierre et Marie Curie",
        "75005",
        "FR",
    )
    assert PartyIdentification.objects.get(party=party).issuer == "French CRM"


def test_it_marks_an_invalid_email_invalid_with_its_reason(source):
    raw = {"source_key": "9", "given_name": "Bo", "email": "bo@@example"}
    parties_create_from_rows(source=source, records=[NewRecord(raw, row_standardize(raw, source=source))])
    email = ContactPointEmail.objects.get()
    assert email.validity == Validity.INVALID and "invalid email" in email.validity_reason


def test_it_writes_nothing_when_a_batch_fails(source):
    raw = {"source_key": "dup", "given_name": "A"}
    item = NewRecord(raw, row_standardize(raw, source=source))
    with pytest.raises(Exception):  # noqa: B017,PT011 - the unique key constraint, any backend
        parties_create_from_rows(source=source, records=[item, item])
    assert Party.objects.count() == 0 and SourceRecord.objects.count() == 0
