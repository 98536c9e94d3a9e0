"""Marketing staff change consents and preferences on the party's preference page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consents.models import ConsentEvent, ContactPointTypeConsent, PrivacyPreference
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


def test_marketing_opts_a_customer_out_with_a_capture_source(role_client):
    party = PartyFactory()
    client = role_client("marketing")
    url = reverse("consents:consent_change", args=[party.pk])

    response = client.post(
        url,
        {"set": "email|newsletter|opt_out", "capture_source": "phone call", "evidence": "ticket 4711"},
        follow=True,
    )

    assert b"Email \xc2\xb7 newsletter: opted out (recorded in the ledger)" in response.content
    row = ContactPointTypeConsent.objects.get(party=party)
    assert (row.channel, row.purpose.code, row.status, row.capture_source) == (
        "email",
        "newsletter",
        "opt_out",
        "phone call",
    )
    event = ConsentEvent.objects.get()
    assert (event.actor_label, event.evidence) == ("t-marketing", "ticket 4711")
    page = client.get(reverse("consents:preferences", args=[party.pk])).content.decode()
    assert "phone call" in page and "Opted out" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"set": "email|newsletter|opt_out", "capture_source": ""}, "capture source: say where"),
        (
            {"set": "email|world_domination|opt_in", "capture_source": "x"},
            "purpose: &#x27;world_domination&#x27;",
        ),
        ({"set": "garbage", "capture_source": "x"}, "Choose a channel, a purpose and a state"),
    ],
)
def test_bad_changes_say_what_and_change_nothing(role_client, data, message):
    party = PartyFactory()
    response = role_client("marketing").post(
        reverse("consents:consent_change", args=[party.pk]), data, follow=True
    )
    assert message in response.content.decode()
    assert not ContactPointTypeConsent.objects.exists() and not ConsentEvent.objects.exists()


def test_stewards_may_look_but_not_change(role_client):
    party = PartyFactory()
    client = role_client("steward")
    page = client.get(reverse("consents:preferences", args=[party.pk]))
    assert page.status_code == 200 and b"Opt out" not in page.content
    assert (
        client.post(
            reverse("consents:consent_change", args=[party.pk]),
            {"set": "email|newsletter|opt_out", "capture_source": "x"},
        ).status_code
        == 403
    )
    assert client.post(reverse("consents:preferences_change", args=[party.pk]), {}).status_code == 403


def test_preferences_are_saved_and_validated(role_client):
    party = PartyFactory()
    client = role_client("marketing")
    url = reverse("consents:preferences_change", args=[party.pk])
    bad = client.post(url, {"preferred_language": "de AT!", "capture_source": "web"}, follow=True)
    assert "is not a language tag" in bad.content.decode()
    missing = client.post(url, {"do_not_solicit": "on"}, follow=True)
    assert "Capture source: This field is required" in missing.content.decode()
    assert not PrivacyPreference.objects.exists()
    client.post(
        url,
        {
            "do_not_solicit": "on",
            "contact_frequency": "monthly",
            "interests": "Running, yoga",
            "capture_source": "preference centre",
        },
    )
    saved = PrivacyPreference.objects.get(party=party)
    assert saved.do_not_solicit and saved.contact_frequency == "monthly"
    assert saved.interests == ["running", "yoga"]
    assert ConsentEvent.objects.get().capture_source == "preference centre"


def test_the_party_page_links_to_the_consents_for_those_who_may_see_them(role_client):
    party = PartyFactory()
    page = role_client("marketing").get(reverse("parties:detail", args=[party.pk]))
    assert reverse("consents:preferences", args=[party.pk]).encode() in page.content
