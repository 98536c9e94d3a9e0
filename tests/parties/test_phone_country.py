"""Phone numbers are read in the customer's own country: the number's own international prefix,
then the customer's address country, then the default region (the source system's). Through
the standardizer, the party page's contact-point form, the API and the search box. The import
pipeline's side is in tests/parties/imports/test_phone_country_import.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from c360.api_tokens import api_token_create
from c360.kernel.roles import MARKETING
from parties import models as m
from parties.search import party_find
from parties.services import standardize as std
from tests.factories import PartyFactory

MANCHESTER = "+441613533342"


# --- the standardizer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["+44 161 353 3342", "0044 161 3533342", "0161 3533342", "+441613533342", "01613533342"]
)
def test_every_spelling_of_a_manchester_number_on_a_gb_customer_is_the_same_e164(raw):
    phone = std.phone_normalize(raw, "DE", address_country="GB")
    assert (phone.normalized, phone.country, phone.problem) == (MANCHESTER, "GB", "")


def test_a_us_number_of_a_customer_with_a_us_address_is_valid_from_a_german_source():
    phone = std.phone_normalize("(818) 728-5898", "DE", address_country="US")
    assert (phone.normalized, phone.country, phone.problem) == ("+18187285898", "US", "")


def test_without_an_address_country_the_source_default_region_still_reads_the_number():
    assert std.phone_normalize("030 1234567", "DE", address_country="").normalized == "+49301234567"
    # a GB national number from a DE source, nobody's address saying otherwise: not valid in DE
    phone = std.phone_normalize("0161 3533342", "DE")
    assert phone.normalized == "01613533342"
    assert phone.problem == (
        "not a valid phone number for its country: read as DE, the default region; "
        "write it with +country if it is from elsewhere"
    )


def test_an_address_country_phone_numbers_do_not_know_falls_back_to_the_default_region():
    assert std.phone_region("AQ", "DE") == ("DE", "the default region")  # Antarctica: no numbering plan
    assert std.phone_normalize("030 1234567", "DE", address_country="AQ").normalized == "+49301234567"


@pytest.mark.parametrize("raw", ["+49 30 1234567", "0049 30 1234567"])
def test_a_number_with_its_own_prefix_keeps_its_country_whatever_the_address(raw):
    phone = std.phone_normalize(raw, "US", address_country="GB")
    assert (phone.normalized, phone.country, phone.problem) == ("+49301234567", "DE", "")


def test_a_junk_number_is_still_flagged_and_the_reason_names_the_country_it_was_read_in():
    phone = std.phone_normalize("12345", "DE", address_country="GB")
    assert phone.normalized == "12345"
    assert phone.problem == (
        "not a valid phone number for its country: read as GB, the customer's "
        "address country; write it with +country if it is from elsewhere"
    )
    prefixed = std.phone_normalize("+49 12", "US", address_country="GB")
    assert prefixed.problem == "not a valid phone number for its country: read with its own prefix +49 (DE)"
    assert std.phone_normalize("call me", "DE", address_country="GB").problem.startswith(
        "unreadable phone number"
    )


# --- the party page's form and the API --------------------------------------------------------


def _party_with_address(country: str) -> m.Party:
    party = PartyFactory()
    m.ContactPointAddress.objects.create(
        party=party,
        raw_value="somewhere",
        line1="1 High Street",
        country=country,
        normalized=f"1 high street {country}",
        is_primary=True,
    )
    return party


def _form_add(client, party, value: str, region: str = ""):
    return client.post(
        reverse("parties:contact_point", args=[party.pk]),
        {"action": "add", "kind": "phone", "value": value, "region": region},
        follow=True,
    )


@pytest.mark.django_db
def test_the_form_reads_a_national_number_in_the_partys_address_country(role_client):
    party = _party_with_address("GB")

    response = _form_add(role_client("marketing"), party, "0161 3533342")

    assert f"Phone added {MANCHESTER}" in response.content.decode()
    phone = m.ContactPointPhone.objects.get(party=party)
    assert (phone.normalized, phone.country, phone.validity) == (MANCHESTER, "GB", "valid")


@pytest.mark.django_db
def test_the_form_correction_reads_in_the_address_country_and_an_explicit_region_wins(role_client):
    party = _party_with_address("GB")
    client = role_client("marketing")
    _form_add(client, party, "+44 161 353 3342")
    phone = m.ContactPointPhone.objects.get(party=party)

    client.post(
        reverse("parties:contact_point", args=[party.pk]),
        {"action": "correct", "kind": "phone", "point": phone.pk, "value": "0161 3533343"},
    )
    phone.refresh_from_db()
    assert phone.normalized == "+441613533343"

    # the editor's region is a statement about this number: it is read there, not in GB
    _form_add(client, party, "030 1234567", region="DE")
    assert m.ContactPointPhone.objects.filter(party=party, normalized="+49301234567", country="DE").exists()


@pytest.mark.django_db
def test_the_form_refuses_a_junk_number_and_an_unknown_region_with_the_reason(role_client):
    party = _party_with_address("GB")
    client = role_client("marketing")

    junk = _form_add(client, party, "12345").content.decode()
    unknown = _form_add(client, party, "0161 3533342", region="XX").content.decode()

    assert (
        "value: not a valid phone number for its country: read as GB, the customer&#x27;s address "
        "country" in junk
    )
    assert "region: &#x27;XX&#x27; is not a country code phone numbers know" in unknown
    assert not m.ContactPointPhone.objects.exists() and not m.PartyEvent.objects.exists()


@pytest.mark.django_db
def test_the_api_reads_a_number_in_the_partys_address_country_else_in_the_us():
    _, key = api_token_create(name="marketing-client", role=MARKETING)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    british, american, nowhere = _party_with_address("GB"), _party_with_address("US"), PartyFactory()

    added = [
        client.post(
            f"/api/v1/parties/{party.pk}/contact-points/", {"kind": "phone", "value": value}, format="json"
        )
        for party, value in ((british, "0161 3533342"), (american, "(818) 728-5898"))
    ]
    refused = client.post(
        f"/api/v1/parties/{nowhere.pk}/contact-points/",
        {"kind": "phone", "value": "0161 3533342"},
        format="json",
    )

    assert [r.status_code for r in added] == [201, 201], [r.content for r in added]
    assert [(r.json()["value"], r.json()["country"]) for r in added] == [
        (MANCHESTER, "GB"),
        ("+18187285898", "US"),
    ]
    assert m.ContactPointPhone.objects.get(party=british).normalized == MANCHESTER
    assert refused.status_code == 400
    assert "read as US, the default region" in str(refused.json())
    assert not m.ContactPointPhone.objects.filter(party=nowhere).exists()


# --- the search box -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_search_finds_a_gb_customers_number_written_the_national_way_from_a_us_search_box():
    party = _party_with_address("GB")
    m.ContactPointPhone.objects.create(
        party=party, raw_value="0161 3533342", normalized=MANCHESTER, country="GB"
    )

    result = party_find(q="0161 3533342", default_region="US")

    assert [hit.party.pk for hit in result.hits] == [party.pk]
