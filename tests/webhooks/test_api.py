"""``/api/v1/webhooks/``: subscribers and their delivery logs for administrators' systems."""

# ruff: noqa: F811 (the tests take the imported `api` fixture as an argument)
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from c360.kernel.models import SettingChange
from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.services.subscribers import subscriber_create
from tests.api.conftest import api  # noqa: F401 (the fixture)
from tests.webhooks.log_helpers import deliveries_in_each_state, deliveries_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(db):
    return subscriber_create(name="CRM sync", url="https://crm.example.com/hooks")


def _operations(pk: int, delivery: int):
    base = f"/api/v1/webhooks/{pk}/"
    return [
        ("get", "/api/v1/webhooks/", None, 200),
        ("post", "/api/v1/webhooks/", {"name": "New", "url": "https://new.example.com/in"}, 201),
        ("get", base, None, 200),
        ("put", base, {"name": "CRM sync", "url": "https://crm.example.com/v2"}, 200),
        ("patch", base, {"event_types": ["party.merged"]}, 200),
        ("post", f"{base}pause/", None, 200),
        ("post", f"{base}resume/", None, 200),
        ("post", f"{base}rotate-secret/", None, 200),
        ("get", f"{base}deliveries/", None, 200),
        ("get", f"{base}deliveries/{delivery}/", None, 200),
        ("post", f"{base}deliveries/{delivery}/redeliver/", None, 200),
        ("delete", base, None, 204),
    ]


def _call(client, method, path, body):
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


def test_only_administrators_may_use_the_endpoints(api, hook):
    delivery = deliveries_make(updates=1, consents=0)[0]
    operations = _operations(hook.pk, delivery.pk)
    for method, path, body, _ in operations:
        assert _call(APIClient(), method, path, body).status_code == 401, path
        for role in ("steward", "marketing"):
            assert _call(api(role), method, path, body).status_code == 403, (role, path)
    hook.refresh_from_db()
    assert (hook.status, hook.url, Subscriber.objects.count()) == (
        SubscriberStatus.ACTIVE,
        "https://crm.example.com/hooks",
        1,
    )
    for method, path, body, expected in operations:
        assert _call(api("administrator"), method, path, body).status_code == expected, path
    assert list(Subscriber.objects.values_list("name", flat=True)) == ["New"]


def test_create_returns_the_secret_and_the_list_does_not(api):
    admin = api("administrator")
    response = admin.post(
        "/api/v1/webhooks/",
        {"name": "Shop", "url": "https://shop.example.com/in", "event_types": ["consent.changed"]},
        format="json",
    )
    assert response.status_code == 201
    shop = Subscriber.objects.get()
    assert response.json()["secret"] == shop.secret and shop.secret.startswith("whsec_")
    assert response.json()["event_types"] == ["consent.changed"] and response.json()["status"] == "active"
    listed = admin.get("/api/v1/webhooks/").json()["results"]
    assert [s["name"] for s in listed] == ["Shop"] and "secret" not in listed[0]
    assert admin.get(f"/api/v1/webhooks/{shop.pk}/").json()["secret"] == shop.secret
    assert SettingChange.objects.filter(setting="webhook subscriber", object_id=str(shop.pk)).count() == 4


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"url": "ftp://files.example.com/in"}, "url", "not an http:// or https:// address"),
        ({"url": "http:///in"}, "url", "with a host"),
        ({"url": "https://bob:pw@crm.example.com/in"}, "url", "no user name or password"),
        ({"url": "https://crm.example.com/in\tx"}, "url", "control characters"),
        # regression: urlsplit raised ValueError on these (a 500), or a bad port was accepted
        ({"url": "http://[::1/in"}, "url", "is not a valid URL (Invalid IPv6 URL)"),
        ({"url": "https://crm.example.com:99999/in"}, "url", "is not a valid URL (Port out of range"),
        ({"url": "https://crm.example.com:http/in"}, "url", "is not a valid URL (Port could not be cast"),
        ({"name": "crm SYNC"}, "name", "exists already"),
        ({"name": ""}, "name", "may not be blank"),
        (
            {"event_types": ["party.updated", "party.exploded"]},
            "event_types",
            "unknown event type 'party.exploded'",
        ),
        ({"event_types": "party.updated"}, "event_types", "Expected a list"),
    ],
    ids=[
        "ftp",
        "no-host",
        "credentials",
        "tab",
        "ipv6-unclosed",
        "port-range",
        "port-text",
        "duplicate",
        "blank-name",
        "unknown-type",
        "not-a-list",
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_created(api, hook, body, field, says):
    before = SettingChange.objects.count()
    response = api("administrator").post(
        "/api/v1/webhooks/", {"name": "Warehouse", "url": "https://wh.example.com/in", **body}, format="json"
    )
    assert response.status_code == 400
    assert says in " ".join(response.json()["errors"][field])
    assert response.json()["detail"].startswith(f"Invalid input — {field}:")
    assert Subscriber.objects.count() == 1 and SettingChange.objects.count() == before


def test_a_nul_character_is_a_400_naming_where_it_is(api, hook):
    response = api("administrator").post(
        "/api/v1/webhooks/", {"name": "Warehouse", "url": "https://wh.example.com/\x00"}, format="json"
    )
    assert response.status_code == 400 and "url contains a NUL character" in response.json()["detail"]
    assert Subscriber.objects.count() == 1


def test_patch_changes_only_what_is_given_and_records_it(api, hook):
    response = api("administrator").patch(
        f"/api/v1/webhooks/{hook.pk}/", {"event_types": ["party.erased", "party.merged"]}, format="json"
    )
    assert response.status_code == 200 and "secret" not in response.json()
    hook.refresh_from_db()
    assert (hook.name, hook.url, hook.event_types) == (
        "CRM sync",
        "https://crm.example.com/hooks",
        ["party.erased", "party.merged"],
    )
    change = SettingChange.objects.filter(object_id=str(hook.pk), field="event_types").latest("pk")
    assert (change.old, change.new) == ("all", "party.erased, party.merged")


def test_put_refuses_a_taken_name(api, hook):
    other = subscriber_create(name="Shop", url="https://shop.example.com/in")
    response = api("administrator").put(
        f"/api/v1/webhooks/{other.pk}/",
        {"name": "CRM Sync", "url": "https://shop.example.com/in"},
        format="json",
    )
    assert response.status_code == 400 and "exists already" in response.json()["errors"]["name"][0]
    other.refresh_from_db()
    assert other.name == "Shop"


def test_pause_resume_and_rotate_change_the_subscriber(api, hook):
    admin = api("administrator")
    assert admin.post(f"/api/v1/webhooks/{hook.pk}/pause/").json()["status"] == "paused"
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.PAUSED
    assert admin.post(f"/api/v1/webhooks/{hook.pk}/resume/").json()["status"] == "active"
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.ACTIVE and hook.resumed_at is not None
    old = hook.secret
    rotated = admin.post(f"/api/v1/webhooks/{hook.pk}/rotate-secret/").json()["secret"]
    hook.refresh_from_db()
    assert rotated == hook.secret != old
    fields = list(
        SettingChange.objects.filter(object_id=str(hook.pk)).order_by("pk").values_list("field", "new")
    )
    assert fields[-3:] == [("status", "paused"), ("status", "active"), ("secret", "(new)")]


def test_delete_removes_the_subscriber_and_its_log(api, hook):
    deliveries_make(updates=2, consents=0)
    assert api("administrator").delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()


def test_the_log_lists_deliveries_newest_first_with_their_statuses(api, hook):
    deliveries = deliveries_make(updates=4, consents=1)
    states = deliveries_in_each_state(deliveries)
    body = api("administrator").get(f"/api/v1/webhooks/{hook.pk}/deliveries/").json()
    rows = body["results"]
    assert [r["event_id"] for r in rows] == [d.sequence for d in reversed(deliveries)]
    by_event = {r["event_id"]: r for r in rows}
    delivered = by_event[states["delivered"].sequence]
    assert (delivered["status"], delivered["response_code"], delivered["retrying"]) == (
        "delivered",
        200,
        False,
    )
    retrying = by_event[states["retrying"].sequence]
    assert (retrying["status"], retrying["retrying"], retrying["error"]) == ("pending", True, "HTTP 503")
    assert by_event[states["dead"].sequence]["status"] == "dead"
    assert by_event[deliveries[-1].sequence]["event_type"] == "consent.changed"
    assert hook.pk and api("administrator").get(f"/api/v1/webhooks/{hook.pk}/").json()["pending"] == 3


def test_the_log_filters_and_pages_by_cursor(api, hook):
    deliveries = deliveries_make(updates=4, consents=1)
    states = deliveries_in_each_state(deliveries)
    admin = api("administrator")
    url = f"/api/v1/webhooks/{hook.pk}/deliveries/"
    assert [r["id"] for r in admin.get(f"{url}?status=dead").json()["results"]] == [states["dead"].pk]
    assert [r["event_type"] for r in admin.get(f"{url}?type=consent.changed").json()["results"]] == [
        "consent.changed"
    ]
    seen, page = [], admin.get(f"{url}?page_size=2").json()
    while True:
        seen += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        page = admin.get(page["next"]).json()
    assert seen == sorted((d.pk for d in deliveries), reverse=True)


@pytest.mark.parametrize(("query", "name"), [("status=lost", "status"), ("type=party.exploded", "type")])
def test_an_unknown_filter_value_is_a_400_naming_the_parameter(api, hook, query, name):
    response = api("administrator").get(f"/api/v1/webhooks/{hook.pk}/deliveries/?{query}")
    assert response.status_code == 400 and name in response.json()["errors"]


def test_the_log_of_an_unknown_subscriber_is_a_404(api):
    assert api("administrator").get("/api/v1/webhooks/999999/deliveries/").status_code == 404


def test_redeliver_sends_a_dead_delivery_again(api, hook):
    dead = deliveries_in_each_state(deliveries_make(updates=3, consents=0))["dead"]
    response = api("administrator").post(f"/api/v1/webhooks/{hook.pk}/deliveries/{dead.pk}/redeliver/")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.PENDING


def test_redeliver_through_another_subscriber_is_a_404(api, hook):
    delivery = deliveries_make(updates=1, consents=0)[0]
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD)
    other = subscriber_create(name="Other", url="https://other.example.com/in")
    response = api("administrator").post(f"/api/v1/webhooks/{other.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
