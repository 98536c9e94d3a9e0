"""Change events (the outbox): every change to a customer writes its event in the change's own
transaction, events are numbered after commit in one serial order, and the pull feed
``GET /api/v1/events/`` reads them by cursor."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from consents.services.ledger import Actor, consent_set, preferences_set
from parties import models as m
from parties.models import ChangeEvent, ChangeEventType
from parties.services import outbox
from parties.services.contact_points import contact_point_add, contact_point_correct, contact_point_deactivate
from parties.services.merge import party_merge, party_split, party_unmerge
from parties.services.overrides import golden_override_set
from tests.factories import PartyFactory, UserFactory
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db

T = ChangeEventType


def _types(**filters) -> list[str]:
    return list(ChangeEvent.objects.filter(**filters).order_by("id").values_list("type", flat=True))


def test_a_merge_unmerge_and_split_each_write_their_event_with_the_parties_they_concern():
    c = customer_copies()
    user = UserFactory(username="steward1")

    merge = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk, actor=user)
    party_unmerge(event_id=merge.pk, actor=user)
    record = m.SourceRecord.objects.filter(party=c.crm).order_by("pk").last()
    party_merge(party_ids=[c.crm.pk, c.pos.pk], survivor_id=c.crm.pk, actor=user)
    party_split(party_id=c.crm.pk, record_ids=[record.pk], actor=user)

    merged = ChangeEvent.objects.filter(type=T.PARTY_MERGED).order_by("id")
    assert [(e.party_id, e.data["merged_ids"], e.actor) for e in merged] == [
        (c.crm.pk, [c.shop.pk], "steward1"),
        (c.crm.pk, [c.pos.pk], "steward1"),
    ]
    unmerged = ChangeEvent.objects.get(type=T.PARTY_UNMERGED)
    assert unmerged.data == {"survivor_id": c.crm.pk, "restored_ids": [c.shop.pk]}
    split = ChangeEvent.objects.get(type=T.PARTY_SPLIT)
    new_id = split.data["new_party_ids"][0]
    assert m.SourceRecord.objects.get(pk=record.pk).party_id == new_id
    assert set(split.other_parties.values_list("party_id", flat=True)) == {new_id}


def test_a_change_that_rolls_back_leaves_no_event():
    c = customer_copies()

    with pytest.raises(RuntimeError), transaction.atomic():
        party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
        assert (
            ChangeEvent.objects.filter(type=T.PARTY_MERGED).count() == 1
        )  # written in the change's transaction
        raise RuntimeError("the caller fails after the merge")

    assert not ChangeEvent.objects.exists()


def test_contact_points_overrides_consents_and_preferences_write_events_without_values():
    party = PartyFactory(given_name="Greta", family_name="Olsen", display_name="Greta Olsen")
    user = UserFactory(username="marketing1")

    point = contact_point_add(party_id=party.pk, kind="email", value="greta.olsen@example.org", actor=user)
    contact_point_correct(kind="email", point_id=point.pk, value="greta.olsen@example.com", actor=user)
    contact_point_deactivate(kind="email", point_id=point.pk, actor=user)
    golden_override_set(party_id=party.pk, attribute="given_name", value="Margarete", actor=user)
    actor = Actor.of_user(user)
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="form",
        actor=actor,
    )
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_out",
        capture_source="form",
        actor=actor,
    )
    preferences_set(party_id=party.pk, changes={"do_not_profile": True}, actor=actor)

    assert _types(party_id=party.pk) == [
        T.CONTACT_POINT_ADDED,
        T.CONTACT_POINT_CORRECTED,
        T.CONTACT_POINT_DEACTIVATED,
        T.PARTY_UPDATED,
        T.CONSENT_CHANGED,
        T.CONSENT_CHANGED,
        T.PREFERENCE_CHANGED,
    ]
    events = {e.type: e for e in ChangeEvent.objects.filter(party_id=party.pk).order_by("id")}
    assert "given_name" in events[T.PARTY_UPDATED].data["fields"]  # the names of what changed
    assert events[T.CONSENT_CHANGED].data == {
        "scope": "channel",
        "key": "email/newsletter",
        "status": "opt_out",
        "previous_status": "opt_in",
    }
    assert events[T.PREFERENCE_CHANGED].data == {"fields": ["do_not_profile"]}
    assert events[T.CONTACT_POINT_ADDED].data == {"contact_point": "email", "contact_point_id": point.pk}
    assert {e.actor for e in events.values()} == {"marketing1"}
    text = str(list(ChangeEvent.objects.values_list("data", flat=True))).lower()
    for value in ("greta", "olsen", "margarete", "example"):
        assert value not in text


def test_events_are_numbered_after_commit_in_one_order_and_numbered_once():
    party = PartyFactory()
    first = outbox.party_updated_event(party_id=party.pk, fields=["given_name"], actor=None)
    second = outbox.party_updated_event(party_id=party.pk, fields=["family_name"], actor=None)
    assert (first.sequence, second.sequence) == (None, None)  # not yet: numbered after commit

    assert outbox.change_events_sequence() == 2
    assert outbox.change_events_sequence() == 0  # numbered once
    third = outbox.party_updated_event(party_id=party.pk, fields=["birth_date"], actor=None)
    outbox.change_events_sequence(batch=1)

    numbers = list(ChangeEvent.objects.order_by("id").values_list("sequence", flat=True))
    assert numbers == [1, 2, 3]
    assert m.ChangeEventSequence.objects.get(pk=1).last == 3
    assert ChangeEvent.objects.get(pk=third.pk).sequence == 3


def test_an_event_committed_after_others_were_numbered_gets_a_higher_number_than_all_of_them():
    """A lower id can commit later (ids are taken before commit): it is numbered after what was
    already numbered, so a reader that has seen N never finds a new event below N."""
    party = PartyFactory()
    late = outbox.party_updated_event(party_id=party.pk, fields=["a"], actor=None)
    ChangeEvent.objects.filter(pk=late.pk).update(sequence=None)
    early = outbox.party_updated_event(party_id=party.pk, fields=["b"], actor=None)
    # as if ``late`` had not committed yet when the sequencer ran: number only ``early``
    ChangeEvent.objects.filter(pk=late.pk).update(sequence=-1)
    outbox.change_events_sequence()
    ChangeEvent.objects.filter(pk=late.pk).update(sequence=None)
    outbox.change_events_sequence()

    assert ChangeEvent.objects.get(pk=early.pk).sequence < ChangeEvent.objects.get(pk=late.pk).sequence
    assert late.pk < early.pk


def test_the_committed_hooks_run_once_per_transaction_and_not_on_rollback(django_capture_on_commit_callbacks):
    from parties import extensions

    calls = []

    def hook():
        calls.append(1)

    extensions.change_events_committed_register(hook)
    try:
        party = PartyFactory()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for name in ("a", "b", "c"):
                outbox.party_updated_event(party_id=party.pk, fields=[name], actor=None)
        assert calls == [1]
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            outbox.party_updated_event(party_id=party.pk, fields=["d"], actor=None)
            raise RuntimeError
        assert (calls, callbacks) == ([1], [])
    finally:
        extensions._change_events_hooks.remove(hook)


# ---- the pull feed -------------------------------------------------------------------------


def _feed(client, **params):
    return client.get(reverse("api:events"), params)


def test_the_feed_reads_by_cursor_with_type_and_party_filters(role_client):
    c = customer_copies()
    party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    for name in ("given_name", "family_name", "birth_date"):
        outbox.party_updated_event(party_id=c.pos.pk, fields=[name], actor=None)
    client = role_client("marketing")

    first = _feed(client, limit=2).json()
    rest = _feed(client, after=first["last_id"]).json()
    merged_only = _feed(client, type="party.merged").json()
    about_shop = _feed(client, party=c.shop.pk).json()  # absorbed by the merge: it finds the merge

    assert (len(first["events"]), first["has_more"], len(rest["events"]), rest["has_more"]) == (
        2,
        True,
        2,
        False,
    )
    ids = [e["id"] for e in first["events"] + rest["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [e["type"] for e in merged_only["events"]] == ["party.merged"]
    event = about_shop["events"][0]
    assert (event["type"], event["party_id"], event["party_ids"]) == (
        "party.merged",
        c.crm.pk,
        sorted([c.crm.pk, c.shop.pk]),
    )
    assert _feed(client, after=rest["last_id"]).json() == {
        "events": [],
        "last_id": rest["last_id"],
        "has_more": False,
    }


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"after": "-1"}, "after", "not a whole number"),
        ({"after": "abc"}, "after", "not a whole number"),
        ({"limit": "0"}, "limit", "out of range"),
        ({"limit": "5000"}, "limit", "out of range"),
        ({"type": "party.exploded"}, "type", "not an event type"),
        ({"party": "1e3"}, "party", "not a whole number"),
        ({"afetr": "3"}, "afetr", "unknown parameter"),
    ],
)
def test_bad_feed_parameters_are_a_400_that_names_them(role_client, params, field, words):
    response = _feed(role_client("steward"), **params)

    assert response.status_code == 400
    assert field in response.json()["errors"] and words in response.json()["detail"]


def test_the_feed_needs_a_sign_in_and_the_permission(client, db):
    assert _feed(client).status_code in (401, 403)
    client.force_login(UserFactory(username="no-role"))
    response = _feed(client)
    assert response.status_code == 403 and "view_changeevent" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sequencers need PostgreSQL")
def test_two_sequencers_at_once_number_every_event_once_without_gaps():
    party = PartyFactory()
    for _ in range(3000):
        ChangeEvent.objects.create(
            type=T.PARTY_UPDATED, party_id=party.pk, occurred_at=party.created_at, data={}
        )
    errors = []

    def sequence():
        try:
            outbox.change_events_sequence(batch=250)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sequence) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    numbers = list(ChangeEvent.objects.order_by("id").values_list("sequence", flat=True))
    assert errors == []
    assert numbers == list(range(1, 3001))
