"""The search box: names with typos, emails, phones in any format, identifiers, source keys,
postal codes and party ids; merged parties lead to their survivors."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from parties.models import ContactPointAddress, ContactPointPhone, PartyIdentification
from parties.search import party_find
from parties.services.merge import party_merge
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db


def _person(given: str, family: str, **extra):
    return PartyFactory(given_name=given, family_name=family, display_name=f"{given} {family}", **extra)


def _phone(party, e164: str) -> ContactPointPhone:
    return ContactPointPhone.objects.create(party=party, raw_value=e164, normalized=e164, country="DE")


@pytest.fixture
def people():
    john = _person("John", "Smith", birth_date=date(1980, 5, 17))
    jane = _person("Jane", "Smithers")
    maria = _person("Maria", "Garcia")
    for i in range(30):  # names that must not crowd out the real match
        _person(f"Person{i}", f"Other{i}")
    EmailFactory(
        party=john, raw_value="john.smith@example.com", normalized="john.smith@example.com", is_primary=True
    )
    _phone(john, "+4930123456789")
    ContactPointAddress.objects.create(
        party=maria,
        line1="Calle Mayor 1",
        postal_code="28013",
        city="Madrid",
        country="ES",
        normalized="calle mayor 1|28013|madrid|es",
    )
    PartyIdentification.objects.create(
        party=jane, identifier_type="tax_id", value="DE 123-456", normalized="DE123456"
    )
    SourceRecordFactory(party=maria, source_system=SourceSystemFactory(name="POS"), source_key="POS-77")
    return {"john": john, "jane": jane, "maria": maria}


def _ids(q: str, **kwargs) -> list[int]:
    return [hit.party.pk for hit in party_find(q=q, **kwargs).hits]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram similarity needs PostgreSQL")
def test_it_finds_a_name_with_two_typos_by_trigram_similarity_on_postgresql(people):
    result = party_find(q="Jonh Smiht")
    assert result.hits[0].party == people["john"]
    assert result.hits[0].matched_on == ["name"]
    assert 0.2 < result.hits[0].score < 1
    assert people["maria"].pk not in _ids("Jonh Smiht")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Soundex needs PostgreSQL's fuzzystrmatch")
def test_swapped_letters_in_short_names_are_found_by_how_they_sound_and_ranked_by_edits(people):
    abigail = _person("Abigail", "Rice")
    aaron = _person("Aaron", "Simpson")
    _person("Amy", "Simpson")  # more trigrams in common with "Araon Simposn" than Aaron has
    # "Aibgail Rcie" shares too few trigrams with "Abigail Rice" (0.24); Soundex finds it.
    assert _ids("Aibgail Rcie")[0] == abigail.pk
    assert _ids("Rcie Aibgail")[0] == abigail.pk  # family name first
    assert _ids("Araon Simposn")[0] == aaron.pk


def test_name_score_counts_a_swap_of_neighbours_as_one_edit():
    from parties.search import name_score

    assert name_score("Araon Simposn", "Aaron Simpson") > name_score("Araon Simposn", "Amy Simpson")
    assert name_score("smith", "John Smith") == 1.0
    assert name_score("Jo Smi", "John Smith") == 0.9  # typed prefixes
    assert name_score("Xavier", "John Smith") < 0.6


def test_it_finds_a_misspelled_name_on_any_database(people):
    # SQLite has no trigram index: a candidate scan ranked by similarity stands in for it.
    assert _ids("Jonh Smiht")[0] == people["john"].pk
    assert _ids("maria garcia") == [people["maria"].pk]


def test_it_finds_a_phone_written_in_any_format(people):
    john = people["john"].pk
    for written in ("+49 30 123456789", "0049 (30) 1234-56789", "030 123456789", "+4930123456789"):
        assert _ids(written, default_region="DE") == [john], written
    assert _ids("030 123456789", default_region="US") == [john]  # by its last nine digits
    assert _ids("+49 30 999999999", default_region="DE") == []


def test_it_finds_email_identifier_source_key_postal_code_and_party_id(people):
    assert _ids("John.Smith@Example.com") == [people["john"].pk]
    assert _ids("de123456") == [people["jane"].pk]  # identifiers normalized the same way
    assert _ids("POS-77") == [people["maria"].pk]
    assert _ids("28013") == [people["maria"].pk]
    assert _ids(f"#{people['jane'].pk}") == [people["jane"].pk]
    assert _ids("nobody@example.com") == []


def test_merged_parties_lead_to_their_survivor(people, administrator):
    john, jane = people["john"], people["jane"]
    party_merge(party_ids=[john.pk, jane.pk], survivor_id=jane.pk, actor=administrator)

    result = party_find(q=f"{john.pk}")
    assert [h.party.pk for h in result.hits] == [jane.pk]
    assert result.hits[0].via == [john.pk]
    # The absorbed party's email moved to the survivor with the merge.
    assert _ids("john.smith@example.com") == [jane.pk]


def test_a_result_shows_what_tells_people_apart(people):
    hit = party_find(q="john.smith@example.com").hits[0]
    assert (hit.birth_year, hit.primary_email, hit.matched_on) == (1980, "john.smith@example.com", ["email"])
    maria = party_find(q="POS-77").hits[0]
    assert (maria.city, maria.sources) == ("Madrid, ES", ["POS"])


def test_the_results_page_lists_parties_with_links(people, role_client):
    client = role_client("marketing")
    response = client.get(reverse("parties:search"), {"q": "28013"})
    assert response.status_code == 200
    body = response.content.decode()
    assert people["maria"].get_absolute_url() in body and "Madrid, ES" in body and "postal code" in body
    empty = client.get(reverse("parties:search"), {"q": "zzzz-nothing"})
    assert "No parties" in empty.content.decode()
    long = client.get(reverse("parties:search"), {"q": "x" * 5000})
    assert long.status_code == 200 and "only its first 200 were searched for" in long.content.decode()


def test_search_needs_a_login(client, people):
    response = client.get(reverse("parties:search"), {"q": "John"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
