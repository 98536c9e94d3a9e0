from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from parties import models as m
from parties.services.golden import golden_explain, party_golden_refresh
from parties.services.overrides import golden_override_remove, golden_override_set
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def party():
    """Three records of one customer: the ERP is trusted most, the shop is the newest, and
    two records agree on the family name."""
    party = PartyFactory()
    for name, rank, days, given, family in (
        ("ERP", 5, 400, "Bob", "Miller"),
        ("Shop", 40, 1, "Robert", "Müller"),
        ("POS", 60, 100, "Bobby J.", "Müller"),
    ):
        SourceRecordFactory(
            party=party,
            source_system=SourceSystemFactory(name=name, trust_rank=rank),
            source_updated_at=NOW - dt.timedelta(days=days),
            standardized={"attributes": {"given_name": given, "family_name": family}},
        )
    return party


@pytest.mark.parametrize(
    "rule, given, family, source",
    [
        (m.Rule.TRUST_RANK, "Bob", "Miller", "ERP"),
        (m.Rule.MOST_RECENT, "Robert", "Müller", "Shop"),
        (m.Rule.MOST_FREQUENT, "Bob", "Müller", None),  # names all differ: trust rank breaks the tie
        (m.Rule.LONGEST, "Bobby J.", "Miller", None),  # family names tie in length: the ERP's is trusted
    ],
)
def test_each_rule_picks_its_value_and_says_where_it_came_from(party, rule, given, family, source):
    for attribute in ("given_name", "family_name"):
        m.SurvivorshipRule.objects.create(attribute=attribute, rule=rule)

    party = party_golden_refresh(party_id=party.pk)

    assert (party.given_name, party.family_name) == (given, family)
    explained = golden_explain(party_id=party.pk)
    assert explained["family_name"].rule == rule
    if source:
        assert explained["given_name"].source == source
    record = m.SourceRecord.objects.get(pk=explained["given_name"].record_id)
    assert record.standardized["attributes"]["given_name"] == given


def test_an_override_wins_until_removed_and_both_are_audited(party):
    steward = UserFactory(username="steward1")

    party = golden_override_set(
        party_id=party.pk, attribute="given_name", value="Rob", actor=steward, reason="customer asked"
    )
    assert party.given_name == "Rob"
    assert golden_explain(party_id=party.pk)["given_name"].rule_label == "steward override"

    party = golden_override_remove(party_id=party.pk, attribute="given_name", actor=steward)
    assert party.given_name == "Bob"
    kinds = list(m.PartyEvent.objects.filter(parties=party).values_list("kind", flat=True))
    assert kinds == [m.EventKind.OVERRIDE_REMOVED, m.EventKind.OVERRIDE_SET]


@pytest.mark.parametrize(
    "attribute, value, message",
    [
        ("birth_date", "17.05.1980", "not a date"),
        ("birth_date", "2999-01-01", "not a plausible birth date"),
        ("gender", "robot", "not one of"),
        ("shoe_size", "44", "not a golden attribute"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(party, attribute, value, message):
    with pytest.raises(ValidationError, match=message):
        golden_override_set(party_id=party.pk, attribute=attribute, value=value, actor=None)
    assert not m.GoldenOverride.objects.exists()
