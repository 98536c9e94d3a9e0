"""Deliveries through real Celery worker processes: a worker killed in the middle of a
delivery loses nothing (its successor sends it: at least once), and an erased customer's
events carry ids only."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

from c360.webhooks.models import Delivery, DeliveryStatus
from c360.webhooks.services.delivery import deliveries_send
from c360.webhooks.services.dispatch import DISPATCH_QUEUED_KEY, SEND_QUEUED_KEY, webhooks_dispatch
from c360.webhooks.services.subscribers import subscriber_create
from c360.webhooks.tasks import dispatch_task
from consents.services.erasure import party_erase
from parties.models import SourceRecord
from parties.services import outbox
from tests.factories import PartyFactory, SourceSystemFactory
from tests.workers import celery_worker


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path, receiver, monkeypatch, settings):
    # Given a subscriber whose receiver hangs on the first request it gets
    monkeypatch.setenv("C360_WEBHOOK_LEASE_SECONDS", "5")
    settings.C360_WEBHOOK_LEASE_SECONDS = 5
    receiver.answer = lambda r: (200, 30.0) if len(receiver.received) == 1 else (200, 0.0)
    subscriber = subscriber_create(name="CRM", url=receiver.url)
    cache.delete_many([DISPATCH_QUEUED_KEY, SEND_QUEUED_KEY.format(subscriber.pk)])
    party = PartyFactory()

    with celery_worker(tmp_path / "first.log") as first:
        # When a change commits, a worker starts delivering it and is killed in the middle
        outbox.party_updated_event(party_id=party.pk, fields=["given_name"], actor=None)  # autocommit
        _wait(lambda: len(receiver.received) == 1, 60, "the first worker's request")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    row = Delivery.objects.get(subscriber=subscriber)
    assert row.status == DeliveryStatus.PENDING  # the answer never reached the dead worker

    # Then, once its lease has run out, the beat's next dispatch sends it through a new worker
    time.sleep(5.5)
    with celery_worker(tmp_path / "second.log"):
        dispatch_task.delay()
        _wait(
            lambda: Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.DELIVERED).exists(),
            60,
            "the second worker's delivery",
        )

    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 2 and len(set(ids)) == 1  # at least once: the same event id twice
    row.refresh_from_db()
    assert (row.status, row.response_code) == (DeliveryStatus.DELIVERED, 200)


PERSON = ["Quirinus", "Vandersloot", "quirinus.v@example.org", "4915123456789", "QV-778"]


@pytest.mark.django_db
def test_an_erased_customers_events_and_deliveries_hold_no_personal_value(tmp_path, receiver, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = Path(tmp_path / "crm.csv")
    path.write_text(
        "customer_id,first_name,last_name,email,phone\nQV-778,Quirinus,Vandersloot,quirinus.v@example.org,+4915123456789\n"
    )
    SourceSystemFactory(name="CRM", default_region="DE")
    subscriber = subscriber_create(name="Everything", url=receiver.url)
    call_command("import_source", str(path), source="CRM", kind="parties", sync=True, verbosity=0)
    party_id = SourceRecord.objects.get(source_key="QV-778").party_id

    party_erase(party_id=party_id, reason="request by Quirinus Vandersloot")
    webhooks_dispatch()
    deliveries_send(subscriber_id=subscriber.pk)

    types = [e["type"] for e in receiver.events()]
    assert types[0] == "party.created" and types[-1] == "party.erased"
    erased = receiver.events()[-1]
    assert erased["party_id"] == party_id and erased["data"] == {"party_ids": [party_id]}
    sent = b" ".join(r.body for r in receiver.received).lower()
    stored = (
        str(list(Delivery.objects.values())).lower() + str(list(outbox.ChangeEvent.objects.values())).lower()
    )
    for value in PERSON:
        assert value.lower().encode() not in sent
        assert value.lower() not in stored
