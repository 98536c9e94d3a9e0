"""Parties flattened for the matcher in bulk (matching.selectors.party_records), read by raw
SQL since issue 17: the same records the ORM reading gave."""

from __future__ import annotations

import datetime

import pytest

from matching.selectors import party_records
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    PartyIdentification,
    PartyStatus,
)
from tests.factories import PartyFactory


@pytest.mark.django_db
def test_party_records_read_active_values_and_the_primary_address_first():
    ana = PartyFactory(given_name="Ana", family_name="Lima", birth_date=datetime.date(1980, 3, 4))
    merged = PartyFactory(given_name="Old", family_name="Copy", status=PartyStatus.MERGED, merged_into=ana)
    bare = PartyFactory(given_name="", family_name="", organization_name="Acme GmbH")
    ContactPointEmail.objects.create(party=ana, raw_value="a", normalized="ana@web.de")
    ContactPointEmail.objects.create(party=ana, raw_value="b", normalized="old@web.de", is_active=False)
    ContactPointPhone.objects.create(party=ana, raw_value="1", normalized="+49301234567")
    ContactPointAddress.objects.create(
        party=ana,
        raw_value="x",
        line1="Nebenweg 2",
        postal_code="10117",
        city="Berlin",
        country="DE",
        normalized="second",
    )
    ContactPointAddress.objects.create(
        party=ana,
        raw_value="y",
        line1="Hauptstr. 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        normalized="primary",
        is_primary=True,
    )
    PartyIdentification.objects.create(party=bare, identifier_type="vat_id", value="DE 1", normalized="DE1")

    records = party_records([ana.pk, merged.pk, bare.pk, 10**9])

    assert set(records) == {ana.pk, bare.pk}  # merged and unknown ids left out
    assert records[ana.pk]["emails"] == ("ana@web.de",)  # the withdrawn address is not evidence
    assert records[ana.pk]["phones"] == ("+49301234567",)
    assert records[ana.pk]["address_line1"] == "hauptstr. 1"  # the primary, though added later
    assert records[ana.pk]["birth_date"] == "1980-03-04"
    assert records[ana.pk]["name"] == "ana\x1flima"
    assert records[bare.pk]["identifiers"] == ("vat_id:de1",)
    assert records[bare.pk]["organization_name"] == "acme gmbh"
    assert party_records([]) == {}
