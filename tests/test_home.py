"""The home page says what needs attention."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parties.models import Validity
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory

pytestmark = pytest.mark.django_db


def test_it_counts_what_needs_attention_and_links_to_it(role_client):
    # Given one party with an invalid email and one party with no contact point at all
    bad = PartyFactory(display_name="Bad Email")
    EmailFactory(party=bad, normalized="x@@y", validity=Validity.INVALID)
    SourceRecordFactory(party=bad)
    lonely = PartyFactory(display_name="Nobody Reachable")

    response = role_client("steward").get(reverse("home"))

    items = {i.title: i.count for i in response.context["summary"].items}
    assert items["Invalid email addresses"] == 1
    assert items["Parties nobody can contact"] == 1
    assert response.context["summary"].parties_active == 2
    # and the list behind the link shows exactly those parties
    listed = role_client("steward").get(reverse("parties:list"), {"reachability": "none"})
    assert [p.pk for p in listed.context["object_list"]] == [lonely.pk]
    listed = role_client("steward").get(reverse("parties:list"), {"contact": "invalid_email"})
    assert [p.pk for p in listed.context["object_list"]] == [bad.pk]


def test_the_party_list_finds_a_customer_by_phone_in_any_format(role_client):
    from parties.models import ContactPointPhone

    party = PartyFactory(display_name="Phone Person")
    ContactPointPhone.objects.create(party=party, raw_value="030 1234567", normalized="+49301234567")
    PartyFactory(display_name="Someone Else")
    for query in ["+49 30 1234567", "(030) 123-4567", "0049301234567"]:
        response = role_client("marketing").get(reverse("parties:list"), {"q": query})
        assert [p.pk for p in response.context["object_list"]] == [party.pk], query


def test_a_merged_party_page_leads_to_its_survivor(role_client):
    survivor = PartyFactory(display_name="Survivor")
    merged = PartyFactory(status="merged", merged_into=survivor)
    response = role_client("steward").get(reverse("parties:detail", args=[merged.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("parties:detail", args=[survivor.pk])
