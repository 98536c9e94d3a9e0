"""Issue 17, item 5: the review page shows which of the customer-aware comparisons fired
(nickname, swapped names, day and month swapped, legal form, …) and shows a household as
two people. Through the service that stores the evidence, and through the page."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import pytest
from django.core.management import call_command
from django.urls import reverse

from matching.comparisons import signals
from matching.models import MatchSuggestion
from matching.selectors import party_records
from matching.services.review import suggestion_changes, suggestion_reasons
from matching.services.suggestions import ALL_PAIRS_UP_TO, evidence_of, member_pairs, pair_evidence
from parties import models as m
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory
from tests.matching.helpers import trained
from tests.matching.queue_helpers import suggestion_for

pytestmark = pytest.mark.django_db

STREET = {"line1": "Lindenweg 7", "postal_code": "04109", "city": "Leipzig", "country": "DE"}


def customer(
    given: str,
    family: str,
    birth: str = "",
    *,
    address: dict | None = STREET,
    organization: str = "",
    email: str = "",
    identifier: str = "",
) -> m.Party:
    """A party with one source record, as an import leaves it."""
    kind = m.PartyKind.ORGANIZATION if organization else m.PartyKind.INDIVIDUAL
    party = PartyFactory(
        kind=kind,
        given_name=given,
        family_name=family,
        organization_name=organization,
        birth_date=dt.date.fromisoformat(birth) if birth else None,
        display_name=organization or f"{given} {family}",
    )
    record = SourceRecordFactory(
        party=party,
        source_system=SourceSystemFactory(name="CRM"),
        standardized={
            "kind": kind,
            "attributes": {
                "given_name": given,
                "family_name": family,
                "birth_date": birth,
                "organization_name": organization,
            },
        },
    )
    if address:
        m.ContactPointAddress.objects.create(
            party=party,
            source_record=record,
            raw_value=address["line1"],
            **address,
            normalized="|".join(address[k].lower() for k in ("line1", "postal_code", "city", "country")),
        )
    if email:
        m.ContactPointEmail.objects.create(
            party=party, source_record=record, raw_value=email, normalized=email
        )
    if identifier:
        m.PartyIdentification.objects.create(
            party=party,
            source_record=record,
            identifier_type="customer_number",
            issuer="CRM",
            value=identifier,
            normalized=identifier,
        )
    return party


def pair_of(*parties: m.Party) -> dict:
    """The evidence a run stores for the first pair (no model: levels and signals only)."""
    ids = [p.pk for p in parties]
    return evidence_of(party_records(ids), ids)["pairs"][0]


def test_bob_and_robert_are_a_nickname():
    robert = customer("Robert", "Trommler", "1962-08-14")
    bob = customer("Bob", "Trommler", "1962-08-14")

    pair = pair_of(robert, bob)

    assert pair["parties"] == [robert.pk, bob.pk]
    assert pair["comparisons"]["cmp:given"] == {"level": "nickname"}  # no model: no weight
    assert pair["comparisons"]["cmp:birth"] == {"level": "same"}
    assert pair["comparisons"]["cmp:address"] == {"level": "same street and postal code"}
    assert pair["signals"] == ["nickname (given names)"]
    assert pair["household"] is False
    assert "cmp:organization" not in pair["comparisons"]  # missing on both: not compared


def test_two_women_of_one_household_are_a_strong_negative():
    rosi = customer("Rosi", "Trommler", "1962-08-14")
    mechthilde = customer("Mechthilde", "Trommler", "1990-01-30")

    pair = pair_of(rosi, mechthilde)

    assert pair["household"] is True
    assert pair["comparisons"]["cmp:household"]["level"] == (
        "same family name and address, another given name"
    )
    assert "household: same family name and address, different person" in pair["signals"]


@pytest.mark.parametrize(
    "a, b, fired, level",
    [
        (
            {"given": "Robert", "family": "Trommler", "birth": "1962-08-04"},
            {"given": "Robert", "family": "Trommler", "birth": "1962-04-08"},
            "birth date with day and month swapped",
            ("cmp:birth", "day and month swapped"),
        ),
        (
            {"given": "Robert", "family": "Trommler", "birth": "1962-08-14"},
            {"given": "Trommler", "family": "Robert", "birth": "1962-08-14"},
            "given and family name swapped",
            ("cmp:given", "swapped with family name"),
        ),
        (
            {"given": "", "family": "", "organization": "Trommler Feinkost GmbH"},
            {"given": "", "family": "", "organization": "Trommler Feinkost"},
            "same organization apart from the legal form",
            ("cmp:organization", "same without the legal form"),
        ),
        (
            {"given": "Robert", "family": "Trommler", "identifier": "C1001"},
            {"given": "Robert", "family": "Trommler", "identifier": "C2002"},
            "different identifiers of the same type",
            ("cmp:identifier", "same type, different value"),
        ),
        (
            {"given": "R.", "family": "Trommler", "birth": "1962-08-14"},
            {"given": "Robert", "family": "Trommler", "birth": "1962-08-14"},
            "initial for a given name",
            ("cmp:given", "initial"),
        ),
    ],
)
def test_each_signal_is_stored_with_its_level_in_words(a, b, fired, level):
    first, second = customer(**a), customer(**b)

    pair = pair_of(first, second)

    assert fired in pair["signals"]
    name, words = level
    assert pair["comparisons"][name]["level"] == words


def test_addresses_in_two_countries_are_a_signal():
    here = customer("Robert", "Trommler", "1962-08-14")
    there = customer(
        "Robert",
        "Trommler",
        "1962-08-14",
        address={"line1": "Lindenweg 7", "postal_code": "4020", "city": "Linz", "country": "AT"},
    )

    assert pair_of(here, there)["signals"] == ["addresses in different countries"]


def test_the_stored_signals_are_the_comparisons_own():
    """The run reads signals off the levels it computed (once, for speed): the same words as
    ``matching.comparisons.signals`` for every kind of pair these tests build."""
    people = [
        customer("Robert", "Trommler", "1962-08-14"),
        customer("Bob", "Trommler", "1962-08-14"),
        customer("Rosi", "Trommler", "1962-08-14"),
        customer("Mechthilde", "Trommler", "1990-01-30"),
        customer("Trommler", "Robert", "1962-08-14"),
        customer("R.", "Trommler", "1962-08-15"),
        customer(
            "Robert",
            "Trommler",
            "1962-08-14",
            address={"line1": "Ring 1", "postal_code": "4020", "city": "Linz", "country": "AT"},
        ),
        customer("", "", organization="Trommler GmbH"),
        customer("", "", organization="Trommler"),
    ]
    ids = [p.pk for p in people]
    records = party_records(ids)

    for a, b in combinations(ids, 2):
        stored = pair_evidence(a, b, records[a], records[b])
        assert stored["signals"] == signals(records[a], records[b]), (a, b)


def test_a_large_cluster_stores_each_member_against_its_best_scored_one():
    assert len(member_pairs(list(range(ALL_PAIRS_UP_TO)))) == 28
    assert member_pairs(list(range(10)), center=4) == [(4, i) for i in range(10) if i != 4]


def test_the_pairs_do_not_make_a_suggestion_look_stale():
    robert, bob = customer("Robert", "Trommler", "1962-08-14"), customer("Bob", "Trommler", "1962-08-14")
    suggestion = suggestion_for([robert.pk, bob.pk])

    assert suggestion_changes(suggestion, [robert.pk, bob.pk]) == ""
    m.ContactPointEmail.objects.create(party=bob, raw_value="bob@example.com", normalized="bob@example.com")
    assert suggestion_changes(suggestion, [robert.pk, bob.pk]) == (
        "the parties changed since this suggestion was made (emails)"
    )


def _review(role_client, suggestion: MatchSuggestion) -> str:
    response = role_client("steward").get(reverse("matching:review", args=[suggestion.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_review_page_shows_the_nickname(role_client):
    robert = customer("Robert", "Trommler", "1962-08-14")
    bob = customer("Bob", "Trommler", "1962-08-14")
    suggestion = suggestion_for([robert.pk, bob.pk])

    html = _review(role_client, suggestion)

    assert "Why the matcher suggests this" in html
    assert 'data-testid="why-signal">nickname (given names)</span>' in html
    assert '<span class="why-label">Given name:</span> nickname' in html
    assert "probably two people" not in html


def test_the_review_page_shows_a_household_as_two_people(role_client):
    rosi = customer("Rosi", "Trommler", "1962-08-14")
    mechthilde = customer("Mechthilde", "Trommler", "1990-01-30")
    suggestion = suggestion_for([rosi.pk, mechthilde.pk])

    html = _review(role_client, suggestion)

    assert 'data-testid="household-warning"' in html and 'data-testid="why-household"' in html
    assert "Household: probably two people" in html
    assert "same family name and address, different person" not in html  # said once, as the warning
    reasons = suggestion_reasons(suggestion, [rosi, mechthilde])
    assert [(r.party_id, r.against_id, bool(r.household)) for r in reasons] == [
        (mechthilde.pk, rosi.pk, True)
    ]


@pytest.mark.parametrize(
    "a, b, shown",
    [
        (
            ("Robert", "Trommler", "1962-08-04"),
            ("Robert", "Trommler", "1962-04-08"),
            "birth date with day and month swapped",
        ),
        (
            ("Robert", "Trommler", "1962-08-14"),
            ("Trommler", "Robert", "1962-08-14"),
            "given and family name swapped",
        ),
    ],
)
def test_the_review_page_shows_swapped_dates_and_names(role_client, a, b, shown):
    suggestion = suggestion_for([customer(*a).pk, customer(*b).pk])

    assert f'data-testid="why-signal">{shown}</span>' in _review(role_client, suggestion)


def test_the_review_page_shows_a_legal_form_left_out(role_client):
    gmbh = customer("", "", organization="Trommler Feinkost GmbH")
    plain = customer("", "", organization="Trommler Feinkost")
    suggestion = suggestion_for([gmbh.pk, plain.pk])

    html = _review(role_client, suggestion)

    assert 'data-testid="why-signal">same organization apart from the legal form</span>' in html
    assert '<span class="why-label">Organization:</span> same without the legal form' in html


def test_a_suggestion_stored_before_its_pairs_still_renders_with_todays_comparison(role_client):
    robert = customer("Robert", "Trommler", "1962-08-14")
    bob = customer("Bob", "Trommler", "1962-08-14")
    suggestion = suggestion_for([robert.pk, bob.pk])
    del suggestion.evidence["pairs"]  # as every suggestion made before this change
    suggestion.save(update_fields=["evidence"])

    html = _review(role_client, suggestion)

    assert "made before the matcher stored its reasons" in html
    assert 'data-testid="why-signal">nickname (given names)</span>' in html


def test_a_run_stores_each_comparisons_weight_and_the_page_shows_it(tmp_path, role_client):
    """With a trained model (an EvidenceClassifier), the run stores what each level adds."""
    trained(tmp_path, parties=300, seed=5)
    call_command("rematch", "--full", "--sync")
    suggestion = MatchSuggestion.objects.filter(status="pending").order_by("-score").first()

    pair = suggestion.evidence["pairs"][0]

    assert all("weight" in item for item in pair["comparisons"].values())
    assert pair["comparisons"]["cmp:family"]["weight"] != 0
    html = _review(role_client, suggestion)
    assert "For one customer" in html and "log-odds" in html
    assert 'class="why-weight why-for">(+' in html

    # the same model weighs a household against one person
    rosi = customer("Rosi", "Trommler", "1962-08-14")
    mechthilde = customer("Mechthilde", "Trommler", "1990-01-30")
    household = suggestion_for([rosi.pk, mechthilde.pk])
    weight = household.evidence["pairs"][0]["comparisons"]["cmp:household"]["weight"]
    assert weight < -4  # cancels the shared family name and address, and 4 more against
    assert f"(\u2212{-weight:.1f})" in _review(role_client, household)
