"""Issue 18, items 5 and 6: the review page's golden-record preview lists every contact point
and identifier the survivor would hold, de-duplicated as the merge de-duplicates them, with
where each comes from; and it names the conflicts a steward must look at (salutation against
gender, given names, identifiers of one type, countries, an organization with a person)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.selectors_queue import review_sheet
from matching.selectors_review import golden_contact_points, merge_key, salutation_gender
from parties import models as m
from parties.services.merge import CONTACT_POINT_MODELS, party_merge
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def person(
    given: str,
    family: str = "Trommler",
    *,
    source: str = "CRM",
    salutation: str = "",
    gender: str = "",
    birth: str = "",
    kind: str = m.PartyKind.INDIVIDUAL,
    organization: str = "",
    country: str = "",
    identifiers: tuple[tuple[str, str, str], ...] = (),
) -> m.Party:
    """A party with one source record, as an import leaves it."""
    party = PartyFactory(
        kind=kind,
        given_name=given,
        family_name=family,
        organization_name=organization,
        display_name=organization or f"{given} {family}".strip(),
    )
    record = SourceRecordFactory(
        party=party,
        source_system=SourceSystemFactory(name=source),
        standardized={
            "kind": kind,
            "attributes": {
                "salutation": salutation,
                "given_name": given,
                "family_name": family,
                "gender": gender,
                "birth_date": birth,
                "organization_name": organization,
            },
        },
    )
    if country:
        m.ContactPointAddress.objects.create(
            party=party,
            source_record=record,
            raw_value="Lindenweg 7",
            line1="Lindenweg 7",
            city="Leipzig",
            postal_code="04109",
            country=country,
            normalized=f"lindenweg 7|04109|leipzig|{country}",
        )
    for kind_, issuer, value in identifiers:
        m.PartyIdentification.objects.create(
            party=party,
            source_record=record,
            identifier_type=kind_,
            issuer=issuer,
            value=value,
            normalized=value.replace(" ", ""),
        )
    return party


def conflicts_of(*parties: m.Party) -> dict[str, str]:
    """The preview's conflicts by kind (a suggestion of these parties, all ticked)."""
    sheet = review_sheet(suggestion_for([p.pk for p in parties]))
    found: dict[str, str] = {}
    for conflict in sheet.preview.conflicts:
        found[conflict.kind] = (found.get(conflict.kind, "") + " " + conflict.text).strip()
    return found


# --- item 5: contact points ---------------------------------------------------------------


def _held(party_id: int) -> dict[str, set[tuple]]:
    """What a party holds after a merge, as the preview lists it: (value key, primary)."""
    held = {}
    for model in CONTACT_POINT_MODELS:
        key = merge_key(model)
        held[model.__name__] = {
            (tuple(row[:-1]), row[-1])
            for row in model.objects.filter(party_id=party_id, is_active=True).values_list(*key, "is_primary")
        }
    held["PartyIdentification"] = {
        (tuple(row), False)
        for row in m.PartyIdentification.objects.filter(party_id=party_id).values_list(
            *merge_key(m.PartyIdentification)
        )
    }
    return held


def test_the_merge_key_is_the_tables_per_party_unique_key():
    assert merge_key(m.ContactPointEmail) == ("normalized",)
    assert merge_key(m.ContactPointSocial) == ("network", "normalized")
    assert merge_key(m.PartyIdentification) == ("identifier_type", "issuer", "normalized")


def test_the_preview_lists_each_value_once_with_every_party_and_source_behind_it():
    c = customer_copies()
    m.ContactPointEmail.objects.create(
        party=c.pos, raw_value="OLD@EXAMPLE.COM", normalized="old@example.com", is_active=False
    )
    groups = {g.kind: g for g in golden_contact_points([c.crm.pk, c.shop.pk, c.pos.pk], c.shop.pk)}

    emails = {p.value: p for p in groups["emails"].points}
    assert list(emails) == ["anna@example.com", "a.schmidt@shop.example", "pos@example.com"]
    assert [s.text for s in emails["anna@example.com"].provenance] == [
        f"Shop S-1 · party #{c.shop.pk}",
        f"CRM C-1 · party #{c.crm.pk}",
    ]
    assert emails["anna@example.com"].primary  # the survivor's primary stays primary
    assert not emails["pos@example.com"].primary
    assert groups["emails"].inactive == 1
    assert [p.value for p in groups["phones"].points] == ["+491512345678"]
    assert [p.value for p in groups["addresses"].points] == ["Hauptstr. 1, 10115 Berlin, Germany"]
    ids = groups["identifiers"].points
    assert [(p.value, p.detail) for p in ids] == [("Customer number C 1", "issued by CRM")]
    assert {s.party_id for s in ids[0].provenance} == {c.crm.pk, c.shop.pk}
    assert "socials" not in groups


@pytest.mark.parametrize("survivor", ["crm", "shop", "pos"])
def test_the_survivor_holds_exactly_what_the_preview_listed(survivor):
    c = customer_copies()
    m.ContactPointPhone.objects.create(
        party=c.pos, raw_value="+49 151 2345678", normalized="+491512345678", is_primary=True
    )
    m.ContactPointPhone.objects.create(
        party=c.crm, raw_value="030 1234", normalized="+49301234", is_primary=True
    )
    ids, kept = [c.crm.pk, c.shop.pk, c.pos.pk], getattr(c, survivor).pk
    listed = golden_contact_points(ids, kept)

    party_merge(party_ids=ids, survivor_id=kept)

    held = _held(kept)
    by_kind = {g.kind: g for g in listed}
    for kind, model in (
        ("emails", "ContactPointEmail"),
        ("phones", "ContactPointPhone"),
        ("addresses", "ContactPointAddress"),
    ):
        expected = {
            (p.value.split(",")[0] if kind == "addresses" else p.value, p.primary)
            for p in by_kind[kind].points
        }
        got = {
            (
                m.ContactPointAddress.objects.get(party_id=kept, normalized=k[0]).line1
                if kind == "addresses"
                else k[0],
                primary,
            )
            for k, primary in held[model]
        }
        assert got == expected, kind
    assert len(by_kind["identifiers"].points) == len(held["PartyIdentification"])


def test_the_review_page_shows_the_contact_points_and_an_unticked_partys_leave(role_client):
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk])
    page = role_client("steward").get(reverse("matching:review", args=[suggestion.pk])).content.decode()
    assert 'data-testid="preview-contact-points"' in page
    assert "pos@example.com" in page.split('data-testid="preview"')[1]
    assert f"from CRM C-1 · party #{c.crm.pk}; Shop S-1 · party #{c.shop.pk}" in page  # CRM's survives

    fragment = (
        role_client("steward")
        .post(
            reverse("matching:review_preview", args=[suggestion.pk]),
            {"members": [c.crm.pk, c.shop.pk], "survivor": c.crm.pk},
        )
        .content.decode()
    )
    assert "pos@example.com" not in fragment  # the unticked party's email does not come along
    assert f'data-survivor="{c.crm.pk}"' in fragment


def test_unticking_the_survivor_moves_the_survivor_to_a_ticked_party(role_client):
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk])
    fragment = (
        role_client("steward")
        .post(
            reverse("matching:review_preview", args=[suggestion.pk]),
            {"members": [c.crm.pk, c.pos.pk], "survivor": c.shop.pk},
        )
        .content.decode()
    )
    assert f'data-survivor="{c.shop.pk}"' not in fragment
    assert f'data-merging="{c.crm.pk},{c.pos.pk}"' in fragment


# --- item 6: conflicts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, gender",
    [("Herr", "male"), ("Herr Dr.", "male"), ("Mrs.", "female"), ("Frau", "female"), ("Dr.", ""), ("", "")],
)
def test_what_gender_a_salutation_names(text, gender):
    assert salutation_gender(text) == gender


def test_herr_against_frau_is_a_conflict():
    herr = person("Kim", salutation="Herr")
    frau = person("Kim", salutation="Frau", source="Shop")
    found = conflicts_of(herr, frau)
    assert (
        f"Salutation and gender disagree: Frau (party #{frau.pk}, Shop), Herr (party #{herr.pk}, CRM)"
        in found["salutation"]
    )


def test_herr_against_a_recorded_female_gender_is_a_conflict():
    found = conflicts_of(person("Kim", salutation="Herr"), person("Kim", gender="female", source="Shop"))
    assert "gender female (party #" in found["salutation"]
    assert "The golden record keeps Herr and female." in found["salutation"]


def test_herr_and_male_agree():
    assert "salutation" not in conflicts_of(
        person("Kim", salutation="Herr"), person("Kim", salutation="Mr", gender="male", source="Shop")
    )


def test_different_given_names_are_a_conflict_but_an_initial_is_not():
    rosi, mechthilde = person("Rosi"), person("Mechthilde", source="Shop")
    found = conflicts_of(rosi, mechthilde)
    assert found["given_name"].startswith(
        f"Different given names: Mechthilde (party #{mechthilde.pk}, Shop), Rosi (party #{rosi.pk}, CRM); "
        "the golden record keeps"
    )
    assert "given_name" not in conflicts_of(person("Rosi"), person("R.", source="Shop"))
    assert "given_name" not in conflicts_of(person("José"), person("JOSE", source="Shop"))
    bob = conflicts_of(person("Robert"), person("Bob", source="Shop"))["given_name"]
    assert "(the matcher reads them as: nickname)" in bob


def test_different_identifiers_of_one_type_are_a_conflict():
    a = person("Kim", identifiers=(("tax_id", "IRS", "123-45-6789"),))
    b = person("Kim", source="Shop", identifiers=(("tax_id", "", "987-65-4321"),))
    found = conflicts_of(a, b)["identifier"]
    assert found == (
        f"Different tax ids: 123-45-6789 (party #{a.pk}), 987-65-4321 (party #{b.pk}); "
        "the survivor keeps them all."
    )


def test_one_shared_identifier_or_two_systems_customer_numbers_are_no_conflict():
    a = person("Kim", identifiers=(("customer_number", "CRM", "C-1"), ("vat_id", "", "DE123")))
    b = person(
        "Kim",
        source="Shop",
        identifiers=(("customer_number", "Shop", "S-9"), ("vat_id", "", "DE123"), ("vat_id", "", "DE999")),
    )
    assert "identifier" not in conflicts_of(a, b)
    c = person("Kim", source="POS", identifiers=(("customer_number", "CRM", "C-2"),))
    assert "Different customer numbers from CRM: C-1 (party #" in conflicts_of(a, c)["identifier"]


def test_two_legal_registrations_say_two_companies():
    a = person(
        "", "", kind=m.PartyKind.ORGANIZATION, organization="ACME GmbH", identifiers=(("vat_id", "", "DE1"),)
    )
    b = person(
        "",
        "",
        kind=m.PartyKind.ORGANIZATION,
        organization="ACME GmbH",
        source="Shop",
        identifiers=(("vat_id", "", "DE2"),),
    )
    assert "two legal registrations are two companies" in conflicts_of(a, b)["identifier"]


def test_addresses_in_different_countries_are_a_conflict():
    de, at = person("Kim", country="DE"), person("Kim", country="AT", source="Shop")
    assert conflicts_of(de, at)["country"] == (
        f"Addresses in different countries: Germany (party #{de.pk}), Austria (party #{at.pk})."
    )
    assert "country" not in conflicts_of(
        person("Kim", country="DE"), person("Kim", country="DE", source="Shop")
    )
    assert "country" not in conflicts_of(person("Kim", country="DE"), person("Kim", source="Shop"))


def test_an_organization_with_a_person_is_a_conflict_and_says_what_the_merge_makes():
    acme = person("", "", kind=m.PartyKind.ORGANIZATION, organization="ACME GmbH")
    anna = person("Anna", "Schmidt", source="Shop")
    m.SourceSystem.objects.filter(name="Shop").update(trust_rank=99)
    found = conflicts_of(acme, anna)["kind"]
    assert found == (
        f"An organization would merge with an individual: ACME GmbH (party #{acme.pk}) is an "
        f"organization, Anna Schmidt (party #{anna.pk}) is a person. The merged party would be "
        "an organization."
    )
    party_merge(party_ids=[acme.pk, anna.pk], survivor_id=anna.pk)
    assert m.Party.objects.get(pk=anna.pk).kind == m.PartyKind.ORGANIZATION  # as the preview said


def test_birth_dates_and_genders_are_worded_for_people():
    a = person("Kim", birth="1980-05-17", gender="non_binary")
    b = person("Kim", birth="1981-01-01", gender="female", source="Shop")
    found = conflicts_of(a, b)
    assert found["birth_date"].startswith("Different birth dates: 1980-05-17 (party #")
    assert "non-binary (party #" in found["gender"] and "non_binary" not in found["gender"]


def test_no_conflicts_for_one_customer_twice():
    assert (
        conflicts_of(
            person("Kim", salutation="Herr", gender="male", country="DE", birth="1980-05-17"),
            person("Kim", salutation="Herr", source="Shop", country="DE", birth="1980-05-17"),
        )
        == {}
    )


@pytest.mark.parametrize("ticked", [0, 1])
def test_a_preview_with_fewer_than_two_ticked_says_so_without_an_error(role_client, ticked):
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    response = role_client("steward").post(
        reverse("matching:review_preview", args=[suggestion.pk]), {"members": [c.crm.pk][:ticked]}
    )
    assert response.status_code == 200
    assert b"Tick at least two parties to merge." in response.content
    assert b"No conflicts." not in response.content
    assert f'data-merging="{c.crm.pk if ticked else ""}"'.encode() in response.content


def test_the_page_words_genders_for_people(role_client):
    a = person("Kim", gender="non_binary")
    b = person("Kim", gender="female", source="Shop")
    suggestion = suggestion_for([a.pk, b.pk])
    page = role_client("steward").get(reverse("matching:review", args=[suggestion.pk])).content.decode()
    assert "Non-binary" in page and ">non_binary" not in page and "non_binary (" not in page
    assert '<option value="non_binary">Non-binary</option>' in page


def test_a_decided_suggestion_still_opens_with_its_preview(role_client):
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    steward = role_client("steward")
    steward.post(
        reverse("matching:review_decide", args=[suggestion.pk]),
        {"action": "merge", "members": [c.crm.pk, c.shop.pk], "survivor": c.crm.pk},
    )
    suggestion.refresh_from_db()
    assert suggestion.status == "merged"
    page = steward.get(reverse("matching:review", args=[suggestion.pk]))
    assert page.status_code == 200
    assert "anna@example.com" in page.content.decode().split('data-testid="preview"')[1]


def test_a_value_the_survivor_holds_deactivated_stays_deactivated_as_the_merge_keeps_it():
    c = customer_copies()
    m.ContactPointEmail.objects.filter(party=c.crm, normalized="anna@example.com").update(is_active=False)
    groups = {g.kind: g for g in golden_contact_points([c.crm.pk, c.shop.pk], c.crm.pk)}
    assert "anna@example.com" not in [p.value for p in groups["emails"].points]
    assert groups["emails"].inactive == 1

    party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    assert not m.ContactPointEmail.objects.get(party=c.crm, normalized="anna@example.com").is_active
