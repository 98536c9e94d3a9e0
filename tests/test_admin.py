"""The Django admin lists every model for administrators; raw payloads cannot be edited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from parties.models import SourceRecord
from tests.factories import EmailFactory, SourceRecordFactory

pytestmark = pytest.mark.django_db


def test_every_parties_model_is_in_the_admin():
    from django.apps import apps

    missing = [
        m.__name__ for m in apps.get_app_config("parties").get_models() if m not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.parametrize(
    "model",
    [
        "party",
        "sourcesystem",
        "sourcerecord",
        "contactpointemail",
        "contactpointphone",
        "contactpointaddress",
        "contactpointsocial",
        "partyidentification",
        "partyrelationship",
        "engagement",
        "membership",
        "importjob",
        "importrejection",
        "dataqualityissue",
        "partyevent",
        "survivorshiprule",
        "goldenoverride",
    ],
)
def test_an_administrator_can_list_and_search_each_model(role_client, model):
    record = SourceRecordFactory(source_key="ADM-1")
    EmailFactory(party=record.party)
    client = role_client("administrator")
    response = client.get(reverse(f"admin:parties_{model}_changelist"), {"q": "x"})
    assert response.status_code == 200


def test_the_party_page_in_the_admin_shows_contact_points_inline(role_client):
    record = SourceRecordFactory(source_key="ADM-2")
    EmailFactory(party=record.party, normalized="inline@example.com")
    response = role_client("administrator").get(reverse("admin:parties_party_change", args=[record.party.pk]))
    assert response.status_code == 200
    assert b"inline@example.com" in response.content
    assert b"ADM-2" in response.content


def test_a_raw_payload_cannot_be_changed_in_the_admin(role_client):
    record = SourceRecordFactory(source_key="ADM-3", raw_payload={"name": "as delivered"})
    client = role_client("administrator")
    url = reverse("admin:parties_sourcerecord_change", args=[record.pk])
    page = client.get(url)
    assert b"as delivered" in page.content
    assert b'name="raw_payload"' not in page.content
    client.post(url, {"party": record.party_id, "raw_payload": '{"name": "tampered"}'})
    assert SourceRecord.objects.get(pk=record.pk).raw_payload == {"name": "as delivered"}


@pytest.mark.parametrize(
    "model",
    [
        "traininglabel",
        "matchermodel",
        "matchsuggestion",
        "matchrun",
        "pairdecision",
        "matchsettings",
        "oversizedblock",
    ],
)
def test_an_administrator_can_list_matching_models(role_client, model):
    response = role_client("administrator").get(reverse(f"admin:matching_{model}_changelist"))
    assert response.status_code == 200


def test_thresholds_in_the_admin_get_the_same_checks(role_client):
    from matching.models import MatchSettings

    current = MatchSettings.current()
    response = role_client("administrator").post(
        reverse("admin:matching_matchsettings_change", args=[current.pk]),
        {"review_threshold": "0.8", "auto_merge_threshold": "0.7"},
    )
    assert response.status_code == 200 and b"Must be above the review threshold" in response.content
    assert MatchSettings.current().review_threshold == 0.5


def test_merging_from_the_admin_goes_through_the_merge_service_and_the_trail_is_read_only(role_client):
    from parties.models import Party, PartyEvent
    from tests.factories import PartyFactory

    a, b = PartyFactory(), PartyFactory()
    client = role_client("administrator")
    response = client.post(
        reverse("admin:parties_party_changelist"),
        {"action": "merge_selected", "_selected_action": [a.pk, b.pk]},
        follow=True,
    )
    assert b"Merged 1 parties into party" in response.content
    assert Party.objects.filter(status="merged").count() == 1
    event = PartyEvent.objects.get()
    change = client.get(reverse("admin:parties_partyevent_change", args=[event.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert (
        client.post(reverse("admin:parties_partyevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert PartyEvent.objects.filter(pk=event.pk).exists()
