from __future__ import annotations

import datetime as dt

import pytest

from parties.services.golden import party_golden_refresh
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db


def _std(**attributes):
    return {"kind": "individual", "attributes": attributes}


def test_it_takes_each_value_from_the_most_trusted_source_that_has_it():
    erp = SourceSystemFactory(name="ERP", trust_rank=5)
    shop = SourceSystemFactory(name="Shop", trust_rank=40)
    party = PartyFactory(given_name="x", family_name="x")
    SourceRecordFactory(
        party=party,
        source_system=shop,
        standardized=_std(given_name="Bill", family_name="Gates", birth_date="1955-10-28"),
    )
    SourceRecordFactory(
        party=party,
        source_system=erp,
        standardized=_std(given_name="William", family_name="Gates", birth_date=""),
    )

    party = party_golden_refresh(party_id=party.pk)

    assert party.given_name == "William"  # ERP is more trusted
    assert party.birth_date == dt.date(1955, 10, 28)  # only the shop knows it
    assert party.display_name == "William Gates"


def test_the_more_recent_record_wins_within_one_source():
    crm = SourceSystemFactory(name="CRM")
    party = PartyFactory()
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    new = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    SourceRecordFactory(
        party=party, source_system=crm, source_updated_at=old, standardized=_std(family_name="Maiden")
    )
    SourceRecordFactory(
        party=party, source_system=crm, source_updated_at=new, standardized=_std(family_name="Married")
    )
    assert party_golden_refresh(party_id=party.pk).family_name == "Married"
