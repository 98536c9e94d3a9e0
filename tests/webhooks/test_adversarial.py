"""An adversarial pass on webhook deliveries: slow receivers, workers racing for a
subscriber, long backlogs behind one party. Real HTTP receivers started by the test."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from c360.webhooks.services.delivery import deliveries_send
from c360.webhooks.services.dispatch import webhooks_dispatch
from c360.webhooks.services.subscribers import subscriber_create
from parties.services import outbox
from tests.factories import PartyFactory


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.C360_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.C360_WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1


@pytest.mark.django_db(transaction=True)
def test_a_slow_receiver_does_not_let_a_second_worker_deliver_while_the_first_is_sending(receiver, settings):
    """Regression: the lease was renewed once a page (200 deliveries), so a receiver taking
    0.3 s an answer outlived a 60 s lease within one page; the beat's next dispatch then sent
    a second worker, and both delivered the same events at once (duplicates, order broken)."""
    # Given a subscriber with ten events queued and a receiver that answers slowly
    settings.C360_WEBHOOK_LEASE_SECONDS = 1
    receiver.answer = lambda r: (200, 0.3)
    subscriber = subscriber_create(name="Slow", url=receiver.url)
    for _ in range(10):
        outbox.party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
    webhooks_dispatch()

    # When a first worker is sending and a second one comes after the lease's time
    def first():
        try:
            deliveries_send(subscriber_id=subscriber.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(1.6)
    second = deliveries_send(subscriber_id=subscriber.pk)
    thread.join(timeout=30)

    # Then the first worker kept its lease: the second found it taken, and no event went twice
    ids = [e["id"] for e in receiver.events()]
    assert second.leased is False
    assert len(ids) == 10 and len(set(ids)) == 10
