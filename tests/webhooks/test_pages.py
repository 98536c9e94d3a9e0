"""The administrators' webhook pages: who may use them, registering and changing subscribers,
and the delivery log."""

from __future__ import annotations

import html
import re

import pytest

from c360.kernel.models import SettingChange
from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.services.signing import signature_header
from c360.webhooks.services.subscribers import subscriber_create
from tests.webhooks.log_helpers import deliveries_in_each_state, deliveries_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(administrator):
    return subscriber_create(name="CRM sync", url="https://crm.example.com/hooks", actor=administrator)


def _pages(hook, delivery_id):
    pk = hook.pk
    return [
        ("get", "/webhooks/", 200),
        ("get", "/webhooks/new/", 200),
        ("get", f"/webhooks/{pk}/", 200),
        ("get", f"/webhooks/{pk}/edit/", 200),
        ("post", f"/webhooks/{pk}/pause/", 302),
        ("post", f"/webhooks/{pk}/resume/", 302),
        ("post", f"/webhooks/{pk}/rotate-secret/", 302),
        ("post", f"/webhooks/{pk}/deliveries/{delivery_id}/redeliver/", 302),
        ("post", f"/webhooks/{pk}/delete/", 302),
    ]


def test_only_administrators_may_use_the_pages(client, role_client, hook):
    delivery = deliveries_make(updates=1, consents=0)[0]
    for method, url, _ in _pages(hook, delivery.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    for role in ("steward", "marketing"):
        c = role_client(role)
        for method, url, _ in _pages(hook, delivery.pk):
            assert getattr(c, method)(url).status_code == 403, (role, url)
    # nothing was changed by the refused requests
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.ACTIVE
    c = role_client("administrator")
    for method, url, expected in _pages(hook, delivery.pk):
        assert getattr(c, method)(url).status_code == expected, url
    assert not Subscriber.objects.exists()


def test_the_navigation_links_the_page_for_administrators_only(role_client):
    assert b'href="/webhooks/"' in role_client("administrator").get("/").content
    assert b'href="/webhooks/"' not in role_client("steward").get("/").content
    assert b'href="/webhooks/"' not in role_client("marketing").get("/").content


def test_the_actions_refuse_get(role_client, hook):
    c = role_client("administrator")
    for action in ("pause", "resume", "rotate-secret", "delete"):
        assert c.get(f"/webhooks/{hook.pk}/{action}/").status_code == 405
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.ACTIVE


def test_registering_creates_the_subscriber_and_records_it(role_client, administrator):
    response = role_client("administrator").post(
        "/webhooks/new/",
        {
            "name": " Shop ",
            "url": "https://shop.example.com/c360",
            "event_types": ["consent.changed", "party.merged"],
        },
    )
    shop = Subscriber.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{shop.pk}/"
    assert (shop.name, shop.url, shop.event_types) == (
        "Shop",
        "https://shop.example.com/c360",
        ["consent.changed", "party.merged"],
    )
    assert shop.secret.startswith("whsec_") and shop.created_by == administrator
    changes = SettingChange.objects.filter(setting="webhook subscriber", object_id=str(shop.pk))
    assert {c.field: c.new for c in changes} == {
        "name": "Shop",
        "url": "https://shop.example.com/c360",
        "event_types": "consent.changed, party.merged",
        "status": "active",
    }
    assert all(c.changed_by == administrator for c in changes)
    page = role_client("administrator").get(response["Location"]).content.decode()
    assert "registered" in page and "Shop" in page and shop.secret in page


def test_no_event_type_ticked_means_all(role_client):
    role_client("administrator").post("/webhooks/new/", {"name": "All", "url": "http://10.0.0.5:8080/in"})
    assert Subscriber.objects.get().event_types == []


def _field_error(page: str, field: str) -> str:
    """The text of the error shown in the field's own block (the form's layout)."""
    if field == "event_types":
        block = page.split('<fieldset class="wh-types', 1)[1].split("</fieldset>", 1)[0]
    else:
        block = page.split(f'name="{field}"', 1)[1].split('<div class="field', 1)[0]
    errors = re.findall(r'<span class="error" role="alert">(.*?)</span>', block, re.S)
    return html.unescape(" ".join(errors))


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"url": "ftp://files.example.com/in"}, "url", "is not an http:// or https:// address"),
        ({"url": "https://"}, "url", "with a host"),
        ({"url": "https://bob:secret@crm.example.com/in"}, "url", "no user name or password"),
        ({"url": "https://crm.example.com/\x00in"}, "url", "Null characters are not allowed"),
        ({"url": "https://crm.example.com/a b"}, "url", "spaces and control characters"),
        ({"url": "http://[::1/in"}, "url", "is not a valid URL (Invalid IPv6 URL)"),  # was a 500
        ({"url": ""}, "url", "required"),
        ({"name": ""}, "name", "required"),
        ({"name": "CRM SYNC"}, "name", "exists already"),
        ({"name": "x\x00y"}, "name", "Null characters are not allowed"),
        ({"event_types": ["party.updated", "party.exploded"]}, "event_types", "party.exploded"),
    ],
    ids=[
        "ftp",
        "no-host",
        "credentials",
        "nul-url",
        "space",
        "ipv6-unclosed",
        "no-url",
        "no-name",
        "duplicate",
        "nul-name",
        "type",
    ],
)
def test_bad_input_is_a_form_error_on_its_field_and_nothing_is_saved(role_client, hook, data, field, says):
    before = SettingChange.objects.count()
    posted = {"name": "Warehouse", "url": "https://wh.example.com/in", **data}
    response = role_client("administrator").post("/webhooks/new/", posted)
    assert response.status_code == 200
    assert says in _field_error(response.content.decode(), field)
    assert list(Subscriber.objects.values_list("name", flat=True)) == ["CRM sync"]
    assert SettingChange.objects.count() == before


def test_editing_saves_through_the_service_and_records_what_changed(role_client, hook, administrator):
    c = role_client("administrator")
    page = c.get(f"/webhooks/{hook.pk}/edit/").content.decode()
    assert 'value="CRM sync"' in page
    response = c.post(
        f"/webhooks/{hook.pk}/edit/",
        {"name": "CRM sync", "url": "https://crm2.example.com/hooks", "event_types": ["party.erased"]},
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.event_types) == ("https://crm2.example.com/hooks", ["party.erased"])
    change = SettingChange.objects.filter(
        setting="webhook subscriber", object_id=str(hook.pk), field="url"
    ).latest("pk")
    assert (change.old, change.new) == ("https://crm.example.com/hooks", "https://crm2.example.com/hooks")


def test_editing_to_a_taken_name_is_refused_on_the_name(role_client, hook):
    other = subscriber_create(name="Shop", url="https://shop.example.com/in")
    response = role_client("administrator").post(
        f"/webhooks/{other.pk}/edit/", {"name": "crm sync", "url": "https://shop.example.com/in"}
    )
    assert "exists already" in _field_error(response.content.decode(), "name")
    other.refresh_from_db()
    assert other.name == "Shop"


def test_pause_and_resume_change_the_subscriber_and_the_history(role_client, hook):
    c = role_client("administrator")
    response = c.post(f"/webhooks/{hook.pk}/pause/", follow=True)
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.PAUSED
    assert "is paused" in response.content.decode()
    assert b">Resume</button>" in response.content
    c.post(f"/webhooks/{hook.pk}/resume/")
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.ACTIVE and hook.resumed_at is not None
    statuses = SettingChange.objects.filter(object_id=str(hook.pk), field="status").order_by("pk")
    assert [(s.old, s.new) for s in statuses] == [
        (None, "active"),
        ("active", "paused"),
        ("paused", "active"),
    ]


def test_rotating_the_secret_makes_a_new_one_and_records_that_it_changed(role_client, hook):
    old = hook.secret
    page = (
        role_client("administrator").post(f"/webhooks/{hook.pk}/rotate-secret/", follow=True).content.decode()
    )
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in page and old not in page
    change = SettingChange.objects.get(object_id=str(hook.pk), field="secret")
    assert (change.old, change.new) == ("(old)", "(new)")  # never the secret itself


def test_deleting_removes_the_subscriber_and_its_log(role_client, hook):
    deliveries_make(updates=2, consents=0)
    response = role_client("administrator").post(f"/webhooks/{hook.pk}/delete/", follow=True)
    assert not Subscriber.objects.exists() and not Delivery.objects.exists()
    assert "CRM sync” and its delivery log are deleted" in response.content.decode()


def test_an_unknown_subscriber_is_a_404(role_client):
    c = role_client("administrator")
    assert c.get("/webhooks/999999/").status_code == 404
    assert c.post("/webhooks/999999/pause/").status_code == 404


def _log_rows(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-testid="delivery" data-event="(\d+)">(.*?)</tr>', page, re.S)
    return {event: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for event, row in rows}


def test_the_log_shows_each_delivery_with_its_status_newest_first(role_client, hook):
    deliveries = deliveries_make(updates=4, consents=1)
    states = deliveries_in_each_state(deliveries)
    page = role_client("administrator").get(f"/webhooks/{hook.pk}/").content.decode()
    rows = _log_rows(page)
    assert list(rows) == [str(d.sequence) for d in reversed(deliveries)]
    delivered = rows[str(states["delivered"].sequence)]
    assert "party.updated" in delivered and " delivered " in f" {delivered} " and " 200 " in delivered
    assert "12 ms" in delivered
    retrying = rows[str(states["retrying"].sequence)]
    assert "retrying" in retrying and "next " in retrying and "503" in retrying and "HTTP 503" in retrying
    assert (
        "dead" in rows[str(states["dead"].sequence)]
        and "gave up after 9" in rows[str(states["dead"].sequence)]
    )
    newest = rows[str(deliveries[-1].sequence)]
    assert "consent.changed" in newest and "pending" in newest
    assert f'href="/parties/{deliveries[-1].party_id}/"' in page
    assert 'data-testid="count-pending">3<' in page and re.search(r'data-testid="count-dead"[^>]*>1<', page)


def test_the_log_filters_by_status_and_type(role_client, hook):
    states = deliveries_in_each_state(deliveries_make(updates=4, consents=1))
    c = role_client("administrator")
    assert list(_log_rows(c.get(f"/webhooks/{hook.pk}/?status=dead").content.decode())) == [
        str(states["dead"].sequence)
    ]
    only_consents = _log_rows(c.get(f"/webhooks/{hook.pk}/?type=consent.changed").content.decode())
    assert len(only_consents) == 1 and "consent.changed" in next(iter(only_consents.values()))
    assert _log_rows(c.get(f"/webhooks/{hook.pk}/?status=pending&type=consent.changed").content.decode())
    assert not _log_rows(
        c.get(f"/webhooks/{hook.pk}/?status=delivered&type=consent.changed").content.decode()
    )


def test_an_unknown_filter_value_is_said_and_the_log_shown_whole(role_client, hook):
    deliveries_make(updates=2, consents=0)
    response = role_client("administrator").get(f"/webhooks/{hook.pk}/?status=lost&type=x&page=abc")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice. lost is not one of the available choices." in html.unescape(page)
    assert len(_log_rows(page)) == 2


def test_the_log_is_paginated(role_client, hook):
    deliveries = deliveries_make(updates=55, consents=0)
    c = role_client("administrator")
    first = _log_rows(c.get(f"/webhooks/{hook.pk}/").content.decode())
    second = _log_rows(c.get(f"/webhooks/{hook.pk}/?page=2").content.decode())
    assert len(first) == 50 and len(second) == 5
    assert list(second) == [str(d.sequence) for d in reversed(deliveries[:5])]


def test_redeliver_sends_a_dead_delivery_again_and_keeps_the_filters(role_client, hook):
    dead = deliveries_in_each_state(deliveries_make(updates=3, consents=0))["dead"]
    response = role_client("administrator").post(
        f"/webhooks/{hook.pk}/deliveries/{dead.pk}/redeliver/", {"back": "status=dead&page=1&evil=1"}
    )
    assert response["Location"] == f"/webhooks/{hook.pk}/?status=dead&page=1#log"
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.PENDING and dead.next_attempt_at <= dead.created_at


def test_redeliver_of_another_subscribers_delivery_is_a_404(role_client, hook):
    delivery = deliveries_make(updates=1, consents=0)[0]
    other = subscriber_create(name="Other", url="https://other.example.com/in")
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DEAD)
    assert (
        role_client("administrator")
        .post(f"/webhooks/{other.pk}/deliveries/{delivery.pk}/redeliver/")
        .status_code
        == 404
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_the_secret_is_behind_show_and_the_snippet_verifies_a_real_signature(role_client, hook, monkeypatch):
    page = role_client("administrator").get(f"/webhooks/{hook.pk}/").content.decode()
    secret_block = page.split('data-testid="secret"', 1)[1].split("</dd>", 1)[0]
    summary = secret_block.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert hook.secret not in summary and "Show" in summary  # masked until the <details> opens
    assert hook.secret in secret_block
    snippet = html.unescape(page.split('data-testid="verify-snippet"><code>', 1)[1].split("</code>", 1)[0])
    monkeypatch.setenv("C360_WEBHOOK_SECRET", hook.secret)
    receiver: dict = {}
    exec(compile(snippet, "snippet", "exec"), receiver)  # noqa: S102 (the page's own example)
    body = b'{"id": 7, "type": "party.updated"}'
    assert receiver["verify"](body, signature_header(secret=hook.secret, body=body))
    assert not receiver["verify"](body + b" ", signature_header(secret=hook.secret, body=body))
    assert not receiver["verify"](body, signature_header(secret="whsec_other", body=body))
    assert not receiver["verify"](body, signature_header(secret=hook.secret, body=body, timestamp=1))
    assert not receiver["verify"](body, "garbage")
