"""An adversarial pass on webhook deliveries: slow receivers, workers racing for a
subscriber, long backlogs behind one party. Real HTTP receivers started by the test."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber
from c360.webhooks.services.delivery import deliveries_send
from c360.webhooks.services.dispatch import webhooks_dispatch
from c360.webhooks.services.signing import SIGNATURE_HEADER, signature_verify
from c360.webhooks.services.subscribers import (
    subscriber_create,
    subscriber_pause,
    subscriber_secret_rotate,
    subscriber_update,
)
from parties.models import ChangeEvent
from parties.services import outbox
from parties.services.bulk_writer import rows_insert
from tests.factories import PartyFactory
from tests.webhooks.receiver import Receiver


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


@pytest.mark.django_db
def test_a_party_held_back_by_a_retry_does_not_make_each_page_read_its_whole_backlog(receiver):
    """Regression: each page of 200 asked for every pending delivery of its parties up to the
    page's end, so a party whose first event waits for a retry, with thousands of events
    behind it, was read again and again (20,000 behind one: 3.6 s a pass, 40,000: ~14 s,
    quadratic; past the 50 s budget the events of other parties behind it were never
    reached). Now its later events are skipped once it is known to be held."""
    # Given one party's first event waiting for its retry and 2,000 more of it behind, then
    # one event of another party
    subscriber = subscriber_create(name="Backlog", url=receiver.url)
    now = timezone.now()
    held, other = PartyFactory().pk, PartyFactory().pk
    rows = [{"type": "party.updated", "party_id": held, "occurred_at": now, "actor": "t", "data": {}}] * 2001
    rows_insert(ChangeEvent, [*rows, {**rows[0], "party_id": other}], now=now)
    webhooks_dispatch()
    first = Delivery.objects.filter(subscriber=subscriber).order_by("sequence").first()
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=now + timedelta(hours=1), attempts=1)

    # When a worker sends
    with CaptureQueriesContext(connection) as queries:
        result = deliveries_send(subscriber_id=subscriber.pk)

    # Then the other party's event went, the held party's waited, and the held party's
    # pending deliveries were looked up once in the pass, not once for each of its 11 pages
    assert [e["party_id"] for e in receiver.events()] == [other]
    assert (result.delivered, result.skipped) == (1, 2000)
    party_lookups = [q for q in queries if '"webhooks_delivery"."party_id" IN' in q["sql"]]
    assert len(party_lookups) <= 2


def _send_in_thread(subscriber_id: int) -> threading.Thread:
    def run():
        try:
            deliveries_send(subscriber_id=subscriber_id)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_pausing_a_subscriber_stops_a_worker_that_is_sending_to_it(receiver):
    """Regression: a worker read the subscriber once at the start of its run and went on
    sending for the rest of it (up to 50 s) after the subscriber was paused."""
    receiver.answer = lambda r: (200, 0.2)
    subscriber = subscriber_create(name="Pause me", url=receiver.url)
    for _ in range(20):
        outbox.party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
    webhooks_dispatch()

    thread = _send_in_thread(subscriber.pk)
    _wait_for(lambda: len(receiver.received) >= 1)
    subscriber_pause(subscriber_id=subscriber.pk)
    paused_with = len(receiver.received)
    thread.join(timeout=30)

    assert len(receiver.received) <= paused_with + 6  # within about a second of the pause
    assert Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).count() >= 13


@pytest.mark.django_db(transaction=True)
def test_a_new_url_and_secret_take_effect_for_a_worker_that_is_sending(receiver):
    """Regression: an administrator who moved a subscriber to a new URL (say, the old one was
    wrong) saw the running worker keep sending events to the old one for the rest of its run,
    signed with the secret it had read at the start."""
    receiver.answer = lambda r: (200, 0.2)
    moved = Receiver().start()
    try:
        subscriber = subscriber_create(name="Moving", url=receiver.url)
        for _ in range(20):
            outbox.party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
        webhooks_dispatch()

        thread = _send_in_thread(subscriber.pk)
        _wait_for(lambda: len(receiver.received) >= 1)
        subscriber_update(subscriber_id=subscriber.pk, name="Moving", url=moved.url)
        subscriber_secret_rotate(subscriber_id=subscriber.pk)
        at_move = len(receiver.received)
        thread.join(timeout=30)

        secret = Subscriber.objects.get(pk=subscriber.pk).secret
        assert len(receiver.received) <= at_move + 6
        assert len(receiver.received) + len(moved.received) == 20
        late = moved.received[-1]
        assert signature_verify(secret=secret, body=late.body, header=late.headers[SIGNATURE_HEADER])
    finally:
        moved.stop()


@pytest.mark.django_db
def test_a_receiver_dripping_its_answer_byte_by_byte_is_cut_off_at_the_timeout():
    """Regression: the timeout applied to each read, not to the answer, so a receiver sending
    one byte of its headers every half second held the worker (and, past the lease, let a
    second worker in) for as long as it liked."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve():
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Drip: " + b"x" * 60:
                if stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    subscriber = subscriber_create(name="Drip", url=f"http://127.0.0.1:{port}/hooks")
    outbox.party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
    webhooks_dispatch()

    started = time.monotonic()
    result = deliveries_send(subscriber_id=subscriber.pk)
    took = time.monotonic() - started
    stop.set()
    server.close()

    # connect (1 s) + answer (2 s) at most, not the 40 s the drip would take
    assert took < 6
    assert result.delivered == 0 and result.failed == 1
    assert "timed out" in Delivery.objects.get(subscriber=subscriber).error


@pytest.mark.django_db
def test_a_subscriber_deleted_while_the_dispatcher_runs_does_not_stop_the_others(receiver):
    """Regression: the dispatcher listed the subscribers, then locked each for its fan-out;
    one deleted in between raised DoesNotExist and the run ended there (the subscribers after
    it got nothing until the next beat)."""
    from c360.webhooks.services.dispatch import deliveries_fan_out
    from c360.webhooks.services.subscribers import subscriber_delete

    gone = subscriber_create(name="Gone", url=receiver.url)
    outbox.party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
    outbox.change_events_sequence()
    subscriber_delete(subscriber_id=gone.pk)

    assert deliveries_fan_out(subscriber_id=gone.pk) == 0
    assert not Delivery.objects.filter(subscriber_id=gone.pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent dispatchers need PostgreSQL")
def test_two_dispatchers_racing_writers_give_each_event_one_delivery(receiver):
    # Given a subscriber, writers committing events, and two dispatchers running meanwhile
    subscriber = subscriber_create(name="Twice", url=receiver.url)
    parties = [PartyFactory().pk for _ in range(3)]
    done = threading.Event()
    errors: list[Exception] = []

    def write(party_id: int) -> None:
        try:
            for i in range(60):
                with transaction.atomic():
                    outbox.party_updated_event(party_id=party_id, fields=[f"f{i}"], actor=None)
                    time.sleep(0.002)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    def dispatch() -> None:
        try:
            while not done.is_set():
                webhooks_dispatch()
            webhooks_dispatch()
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(pk,)) for pk in parties]
    dispatchers = [threading.Thread(target=dispatch) for _ in range(2)]
    for t in [*dispatchers, *writers]:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in dispatchers:
        t.join(timeout=60)
    webhooks_dispatch()

    # Then every event has exactly one delivery and the cursor is at the last event
    assert errors == []
    sequences = sorted(Delivery.objects.filter(subscriber=subscriber).values_list("sequence", flat=True))
    assert sequences == sorted(ChangeEvent.objects.values_list("sequence", flat=True))
    assert len(sequences) == 180
    assert Subscriber.objects.get(pk=subscriber.pk).cursor == sequences[-1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/webhooks/99999999999999999999999/deliveries/",
        "/api/v1/webhooks/99999999999999999999999/deliveries/1/",
        "/api/v1/webhooks/1/deliveries/99999999999999999999999/",
        "/api/v1/webhooks/99999999999999999999999/",
    ],
)
def test_ids_beyond_any_column_in_webhook_urls_are_a_404_not_a_500(role_client, path):
    assert role_client("administrator").get(path).status_code == 404


@pytest.mark.django_db
def test_a_merge_waits_for_an_earlier_event_of_the_customer_it_absorbs(receiver):
    """Regression: order was kept per ``party_id`` only, and a merge's party is its survivor,
    so while an update of the absorbed customer waited for its retry the merge went first,
    and the receiver learnt of the update of a customer it had already merged away."""
    survivor, absorbed = PartyFactory().pk, PartyFactory().pk
    receiver.answer = lambda r: (500, 0.0) if len(receiver.received) == 1 else (200, 0.0)
    subscriber = subscriber_create(name="Order", url=receiver.url)
    outbox.party_updated_event(party_id=absorbed, fields=["given_name"], actor=None)
    outbox.party_merged_event(
        survivor_id=survivor, merged_ids=[absorbed], automatic=False, suggestion_id=None, actor=None
    )
    webhooks_dispatch()

    deliveries_send(subscriber_id=subscriber.pk)
    assert [e["type"] for e in receiver.events()] == ["party.updated"]  # failed; the merge waits

    Delivery.objects.filter(subscriber=subscriber).update(next_attempt_at=timezone.now())
    deliveries_send(subscriber_id=subscriber.pk)
    assert [e["type"] for e in receiver.events()] == ["party.updated", "party.updated", "party.merged"]


@pytest.mark.django_db
def test_a_new_customers_event_waits_for_the_split_that_made_it(receiver):
    """Regression: a split is the event of the party split, naming the new party; while it
    waited for its retry, the new party's own later events went first (a receiver learnt of
    an update to a customer it had never heard of)."""
    party, new = PartyFactory().pk, PartyFactory().pk
    receiver.answer = lambda r: (500, 0.0) if len(receiver.received) == 1 else (200, 0.0)
    subscriber = subscriber_create(name="Split", url=receiver.url)
    outbox.party_split_event(party_id=party, new_party_ids=[new], actor=None)
    outbox.party_updated_event(party_id=new, fields=["given_name"], actor=None)
    webhooks_dispatch()

    deliveries_send(subscriber_id=subscriber.pk)
    assert [e["type"] for e in receiver.events()] == ["party.split"]  # failed; the update waits

    Delivery.objects.filter(subscriber=subscriber).update(next_attempt_at=timezone.now())
    deliveries_send(subscriber_id=subscriber.pk)
    assert [e["type"] for e in receiver.events()] == ["party.split", "party.split", "party.updated"]
