"""Contact points and consents over the API: same validation as the pages, the ledger names
the API client, roles as in the UI."""

from __future__ import annotations

import pytest

from consents.models import ConsentEvent, ContactPointTypeConsent
from consents.services.ledger import ledger_check
from parties.models import ContactPointEmail, ContactPointPhone, Party
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


def test_contact_points_are_added_corrected_verified_and_deactivated_with_validation(api):
    party = PartyFactory()
    client = api("marketing")
    url = f"/api/v1/parties/{party.pk}/contact-points/"
    phone = client.post(url, {"kind": "phone", "value": "030 1234567", "region": "DE"}, format="json")
    assert phone.status_code == 201 and phone.json()["value"] == "+49301234567"
    bad = client.post(url, {"kind": "email", "value": "ann@@example"}, format="json")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["value"]
    assert client.post(url, {"kind": "fax", "value": "1"}, format="json").json()["errors"]["kind"]

    email = client.post(url, {"kind": "email", "value": "Ann@Example.com"}, format="json").json()
    point = f"/api/v1/contact-points/email/{email['id']}/"
    corrected = client.patch(point, {"value": "ann@example.org"}, format="json")
    assert corrected.status_code == 200 and corrected.json()["value"] == "ann@example.org"
    assert client.patch(point, {"verified": True}, format="json").json()["validity"] == "verified"
    assert client.patch(point, {}, format="json").status_code == 400
    gone = client.post(f"{point}deactivate/", {"reason": "bounced"}, format="json")
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert ContactPointEmail.objects.filter(pk=email["id"]).exists()  # never deleted
    assert (
        client.patch("/api/v1/contact-points/email/999999/", {"verified": True}, format="json").status_code
        == 404
    )


def test_a_merged_party_refuses_contact_point_changes_with_a_reason(api):
    survivor, merged = PartyFactory(), PartyFactory()
    Party.objects.filter(pk=merged.pk).update(status="merged", merged_into=survivor)
    response = api("steward").post(
        f"/api/v1/parties/{merged.pk}/contact-points/",
        {"kind": "email", "value": "x@example.org"},
        format="json",
    )
    assert response.status_code == 400 and "edit the survivor" in response.json()["detail"]


def test_consents_are_read_and_written_through_the_ledger_with_the_api_client_as_actor(api):
    party = PartyFactory()
    client = api("marketing")
    url = f"/api/v1/parties/{party.pk}/consents/"
    assert client.get(url).json() == {
        "party_id": party.pk,
        "channels": [],
        "contact_points": [],
        "preferences": None,
    }
    written = client.post(
        url,
        {
            "channel": "email",
            "purpose": "newsletter",
            "status": "opt_out",
            "capture_source": "email platform",
            "evidence": "unsubscribe link",
        },
        format="json",
    )
    assert written.status_code == 201 and written.json()["channels"][0]["status"] == "opt_out"
    event = ConsentEvent.objects.get(party=party)
    assert (event.actor_kind, event.actor_label, event.evidence) == (
        "api",
        "API client marketing-client",
        "unsubscribe link",
    )
    history = client.get(f"{url}history/").json()["results"]
    assert [e["key"] for e in history] == ["email/newsletter"] and history[0]["new"]["status"] == "opt_out"

    no_source = client.post(
        url, {"channel": "email", "purpose": "newsletter", "status": "opt_in"}, format="json"
    )
    assert no_source.status_code == 400 and "capture_source" in no_source.json()["errors"]
    unknown = client.post(
        url,
        {"channel": "email", "purpose": "astrology", "status": "opt_in", "capture_source": "x"},
        format="json",
    )
    assert unknown.status_code == 400 and "astrology" in unknown.json()["errors"]["purpose"][0]

    prefs = client.patch(
        f"/api/v1/parties/{party.pk}/preferences/",
        {"do_not_profile": True, "interests": ["Cycling"], "capture_source": "app"},
        format="json",
    )
    assert prefs.status_code == 200 and prefs.json()["interests"] == ["cycling"]
    assert ledger_check() == []
    assert ContactPointTypeConsent.objects.get(party=party).capture_source == "email platform"


def test_stewards_read_consents_but_may_not_change_them(api):
    party = PartyFactory()
    url = f"/api/v1/parties/{party.pk}/consents/"
    assert api("steward").get(url).status_code == 200
    refused = api("steward").post(
        url,
        {"channel": "email", "purpose": "newsletter", "status": "opt_in", "capture_source": "x"},
        format="json",
    )
    assert refused.status_code == 403 and not ConsentEvent.objects.exists()
    assert (
        api("steward")
        .patch(
            f"/api/v1/parties/{party.pk}/preferences/",
            {"do_not_track": True, "capture_source": "x"},
            format="json",
        )
        .status_code
        == 403
    )


def test_phones_are_found_again_after_an_api_change(api):
    party = PartyFactory()
    api("steward").post(
        f"/api/v1/parties/{party.pk}/contact-points/",
        {"kind": "phone", "value": "+1 415 555 0132"},
        format="json",
    )
    assert ContactPointPhone.objects.get(party=party).normalized == "+14155550132"
    found = api("steward").get("/api/v1/parties/", {"phone": "(415) 555-0132"}).json()["results"]
    assert [r["id"] for r in found] == [party.pk]
