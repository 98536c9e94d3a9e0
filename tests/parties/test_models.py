"""Database constraints that protect the Customer 360 model."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from parties.models import Party, PartyRelationship, PartyStatus
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db


def test_a_source_key_is_unique_within_its_source_system_only():
    crm, shop = SourceSystemFactory(name="CRM"), SourceSystemFactory(name="Shop")
    SourceRecordFactory(source_system=crm, source_key="42")
    SourceRecordFactory(source_system=shop, source_key="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceRecordFactory(source_system=crm, source_key="42")


def test_a_merged_party_must_point_at_its_survivor():
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyFactory(status=PartyStatus.MERGED)
    survivor = PartyFactory()
    merged = PartyFactory(status=PartyStatus.MERGED, merged_into=survivor)
    assert merged.is_merged and merged.merged_into == survivor


def test_an_active_party_cannot_point_at_a_survivor():
    survivor = PartyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyFactory(status=PartyStatus.ACTIVE, merged_into=survivor)


def test_an_email_is_stored_once_per_party():
    party = PartyFactory()
    EmailFactory(party=party, normalized="a@example.com")
    EmailFactory(party=PartyFactory(), normalized="a@example.com")  # another party may share it
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailFactory(party=party, normalized="a@example.com")


def test_a_party_cannot_relate_to_itself():
    party = PartyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PartyRelationship.objects.create(from_party=party, to_party=party, kind="spouse")


def test_the_display_name_of_a_person_and_an_organization():
    person = Party(given_name="Ada", middle_name="King", family_name="Lovelace")
    org = Party(kind="organization", organization_name=" Analytical Engines Ltd ")
    assert person.compute_display_name() == "Ada King Lovelace"
    assert org.compute_display_name() == "Analytical Engines Ltd"
