"""Subscribers and deliveries in the Django admin: read there, never written; the secret is
never shown; pause and resume go through the services."""

from __future__ import annotations

import pytest

from c360.kernel.models import SettingChange
from c360.webhooks.models import SubscriberStatus
from c360.webhooks.services.subscribers import subscriber_create
from tests.webhooks.log_helpers import deliveries_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(db):
    return subscriber_create(name="CRM sync", url="https://crm.example.com/hooks")


def test_an_administrator_reads_subscribers_and_deliveries_without_the_secret(role_client, hook):
    delivery = deliveries_make(updates=1, consents=0)[0]
    c = role_client("administrator")
    for url in (
        "/admin/webhooks/subscriber/",
        f"/admin/webhooks/subscriber/{hook.pk}/change/",
        "/admin/webhooks/delivery/",
        f"/admin/webhooks/delivery/{delivery.pk}/change/",
    ):
        response = c.get(url)
        assert response.status_code == 200, url
        assert hook.secret not in response.content.decode(), url
    assert c.get("/admin/webhooks/subscriber/add/").status_code == 403
    assert c.get(f"/admin/webhooks/delivery/{delivery.pk}/delete/").status_code == 403


def test_the_pause_and_resume_actions_go_through_the_services(role_client, hook, administrator):
    c = role_client("administrator")
    c.post("/admin/webhooks/subscriber/", {"action": "pause_selected", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.PAUSED
    c.post("/admin/webhooks/subscriber/", {"action": "resume_selected", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.ACTIVE
    changes = SettingChange.objects.filter(object_id=str(hook.pk), field="status").order_by("pk")
    assert [(s.new, s.changed_by) for s in changes][1:] == [
        ("paused", administrator),
        ("active", administrator),
    ]


def test_other_roles_do_not_see_webhooks_in_the_admin(role_client, hook):
    assert role_client("steward").get("/admin/webhooks/subscriber/").status_code in (302, 403)
