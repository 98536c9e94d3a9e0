"""Parties over the API: filters, cursor sync, detail, merged ids, lookup, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from parties.models import Party
from parties.services.merge import party_merge
from tests.factories import PartyFactory
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db
URL = "/api/v1/parties/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_filters_find_parties_by_name_email_phone_in_any_format_postal_code_country_and_source(api):
    c = customer_copies()
    client = api("steward")
    assert _ids(client.get(URL, {"name": "schmidt-mey"})) == [c.pos.pk]
    assert sorted(_ids(client.get(URL, {"email": "ANNA@Example.com"}))) == sorted([c.crm.pk, c.shop.pk])
    for written in ("+49 151 2345678", "0151 2345678", "(0151) 234-5678", "00491512345678"):
        assert _ids(client.get(URL, {"phone": written})) == [c.shop.pk], written
    assert _ids(client.get(URL, {"postal_code": "10115"})) == [c.crm.pk]
    assert _ids(client.get(URL, {"country": "de"})) == [c.crm.pk]
    assert _ids(client.get(URL, {"source_system": "pos"})) == [c.pos.pk]
    assert _ids(client.get(URL, {"kind": "organization"})) == [c.employer.pk]
    row = client.get(URL, {"phone": "0151 2345678"}).json()["results"][0]
    assert row["primary_email"] == "a.schmidt@shop.example" or row["primary_email"] == "anna@example.com"
    assert row["primary_phone"] == "+491512345678" and row["url"] == f"http://testserver{URL}{c.shop.pk}/"


def test_updated_since_returns_what_changed_and_a_bad_value_names_the_parameter(api):
    old, new = PartyFactory(), PartyFactory()
    Party.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=2))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert _ids(api("steward").get(URL, {"updated_since": since})) == [new.pk]
    bad = api("steward").get(URL, {"updated_since": "yesterday"})
    assert bad.status_code == 400 and "updated_since" in bad.json()["errors"]


def test_a_cursor_sync_misses_and_repeats_nothing_while_parties_are_added_and_changed(api):
    first = [PartyFactory().pk for _ in range(25)]
    client, seen, added = api("steward"), [], []
    page = client.get(URL, {"page_size": 10}).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        added += [PartyFactory().pk for _ in range(3)]  # other systems keep writing
        Party.objects.filter(pk=first[0]).update(display_name="Changed meanwhile")
        if not page["next"] or len(added) > 30:
            break
        page = client.get(page["next"]).json()
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(first) <= set(seen)  # nothing missed
    assert seen == sorted(seen)


def test_the_detail_carries_contact_points_identifiers_memberships_consents_and_records(api):
    from consents.services.ledger import Actor, consent_set

    c = customer_copies()
    consent_set(
        party_id=c.pos.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="web form",
        actor=Actor(label="t"),
    )
    body = api("marketing").get(f"{URL}{c.pos.pk}/").json()
    assert body["emails"][0]["value"] == "pos@example.com"
    assert body["memberships"][0]["tier"] == "Gold"
    assert body["consents"] == [
        {
            "channel": "email",
            "purpose": "newsletter",
            "status": "opt_in",
            "captured_at": body["consents"][0]["captured_at"],
            "capture_source": "web form",
        }
    ]
    assert body["source_records"][0]["source_key"] == "P-1" and body["survivor"] is None
    shop = api("marketing").get(f"{URL}{c.shop.pk}/").json()
    assert shop["phones"][0]["value"] == "+491512345678" and shop["identifiers"][0]["normalized"] == "C1"


def test_a_merged_id_points_to_its_survivor_and_lookup_by_source_key_finds_it(api):
    c = customer_copies()
    party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    party_merge(party_ids=[c.crm.pk, c.pos.pk], survivor_id=c.pos.pk)  # the survivor merged on
    merged = api("steward").get(f"{URL}{c.shop.pk}/").json()
    assert merged["status"] == "merged" and merged["merged_into"] == c.crm.pk
    assert merged["survivor"] == f"http://testserver{URL}{c.pos.pk}/"  # followed to the end
    survivor = api("steward").get(merged["survivor"]).json()
    assert survivor["status"] == "active" and sorted(survivor["merged_parties"]) == [c.crm.pk]

    found = api("steward").get(f"{URL}lookup/", {"source_system": "Shop", "source_key": "S-1"})
    assert found.status_code == 200 and found.json()["id"] == c.pos.pk
    missing = api("steward").get(f"{URL}lookup/", {"source_system": "Shop", "source_key": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    incomplete = api("steward").get(f"{URL}lookup/", {"source_key": "S-1"})
    assert incomplete.status_code == 400 and incomplete.json()["errors"] == {
        "source_system": ["this parameter is required"]
    }


def test_unknown_parties_answer_404_and_users_without_a_role_403(api, client):
    from tests.factories import UserFactory

    assert api("steward").get(f"{URL}999999/").json() == {"detail": "No Party matches the given query."}
    client.force_login(UserFactory(username="nobody"))
    assert client.get(URL).status_code == 403


def test_merges_unmerges_contact_point_and_consent_changes_all_count_as_updates(api):
    from consents.services.ledger import Actor, consent_set
    from parties.services.merge import party_unmerge

    c = customer_copies()
    client = api("steward")

    def changed_since(moment) -> set[int]:
        return set(_ids(client.get(URL, {"updated_since": moment.isoformat(), "page_size": 100})))

    Party.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    mark = timezone.now()
    event = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    assert changed_since(mark) == {c.crm.pk, c.shop.pk}
    Party.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    mark = timezone.now()
    party_unmerge(event_id=event.pk)
    assert changed_since(mark) == {c.crm.pk, c.shop.pk}
    Party.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    mark = timezone.now()
    consent_set(
        party_id=c.pos.pk,
        channel="sms",
        purpose="marketing",
        status="opt_out",
        capture_source="shop",
        actor=Actor(label="t"),
    )
    client.post(
        f"{URL}{c.employer.pk}/contact-points/",
        {"kind": "email", "value": "info@acme.example"},
        format="json",
    )
    assert changed_since(mark) == {c.pos.pk, c.employer.pk}
