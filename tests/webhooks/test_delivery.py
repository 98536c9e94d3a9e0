"""Webhook deliveries to a real HTTP receiver started by the test: signatures, retries with
backoff after 500s and timeouts, order per party, the resting receiver and its backlog, the
retry window, and erasure events without personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber
from c360.webhooks.services import delivery as sending
from c360.webhooks.services.delivery import backoff_seconds, deliveries_send
from c360.webhooks.services.dispatch import webhooks_dispatch
from c360.webhooks.services.signing import SIGNATURE_HEADER, signature_header, signature_verify
from c360.webhooks.services.subscribers import subscriber_create, subscriber_pause, subscriber_resume
from parties.services import outbox
from tests.factories import PartyFactory
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.C360_WEBHOOK_BACKOFF_SECONDS = 10
    settings.C360_WEBHOOK_BACKOFF_MAX_SECONDS = 900
    settings.C360_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.C360_WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1


def _updated(party_id: int, n: int) -> None:
    for i in range(n):
        outbox.party_updated_event(party_id=party_id, fields=[f"f{i}"], actor=None)


def _due_now(subscriber: Subscriber) -> None:
    """Time passes: every waiting retry and the receiver's rest are over."""
    now = timezone.now()
    Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).update(next_attempt_at=now)
    Subscriber.objects.filter(pk=subscriber.pk).update(resume_at=None)


def test_a_delivery_is_signed_over_timestamp_and_body_and_a_tampered_body_fails(receiver):
    subscriber = subscriber_create(name="CRM", url=receiver.url)
    party = PartyFactory()
    outbox.party_updated_event(party_id=party.pk, fields=["given_name"], actor=None)
    webhooks_dispatch()

    result = deliveries_send(subscriber_id=subscriber.pk)

    assert result.delivered == 1
    got = receiver.received[0]
    header = got.headers[SIGNATURE_HEADER]
    assert signature_verify(secret=subscriber.secret, body=got.body, header=header)
    assert not signature_verify(
        secret=subscriber.secret, body=got.body.replace(b"given", b"family"), header=header
    )
    assert not signature_verify(secret="whsec_other", body=got.body, header=header)
    old = signature_header(secret=subscriber.secret, body=got.body, timestamp=1_000_000_000)
    assert not signature_verify(secret=subscriber.secret, body=got.body, header=old)  # a replay
    assert got.event["type"] == "party.updated" and got.event["party_id"] == party.pk
    assert got.headers["C360-Event-Id"] == str(got.event["id"])
    log = Delivery.objects.get(subscriber=subscriber)
    assert (log.status, log.attempts, log.response_code) == (DeliveryStatus.DELIVERED, 1, 200)


def test_500s_and_timeouts_are_retried_with_growing_backoff_and_then_delivered(receiver):
    answers = iter([(500, 0.0), (200, 2.0), (503, 0.0), (200, 0.0)])  # 2.0 s: beyond the timeout
    receiver.answer = lambda r: next(answers)
    subscriber = subscriber_create(name="Shop", url=receiver.url)
    party = PartyFactory()
    outbox.party_updated_event(party_id=party.pk, fields=["given_name"], actor=None)
    webhooks_dispatch()
    delays, errors = [], []
    for _ in range(3):
        before = timezone.now()
        deliveries_send(subscriber_id=subscriber.pk)
        row = Delivery.objects.get(subscriber=subscriber)
        delays.append((row.next_attempt_at - before).total_seconds())
        errors.append(row.error)
        _due_now(subscriber)

    deliveries_send(subscriber_id=subscriber.pk)

    row = Delivery.objects.get(subscriber=subscriber)
    assert errors == ["HTTP 500", "timed out", "HTTP 503"]
    assert 5 - 1 <= delays[0] <= 10 + 1 and 10 - 1 <= delays[1] <= 20 + 1 and 20 - 1 <= delays[2] <= 40 + 1
    assert (row.status, row.attempts, row.response_code) == (DeliveryStatus.DELIVERED, 4, 200)
    assert len(receiver.received) == 4 and len({r.event["id"] for r in receiver.received}) == 1


def test_backoff_doubles_to_its_cap_with_jitter(settings):
    settings.C360_WEBHOOK_BACKOFF_SECONDS = 10
    settings.C360_WEBHOOK_BACKOFF_MAX_SECONDS = 900
    samples = {n: [backoff_seconds(n) for _ in range(200)] for n in (1, 2, 3, 8, 20)}

    assert all(5 <= s <= 10 for s in samples[1]) and all(10 <= s <= 20 for s in samples[2])
    assert all(450 <= s <= 900 for s in samples[8] + samples[20])
    assert len({round(s, 6) for s in samples[3]}) > 100  # jittered, not one fixed delay


def test_a_failed_event_holds_back_the_later_events_of_its_party_only(receiver):
    """Order per party: party A's first event fails; A's later events wait for it while party
    B's go; when A's first one goes, the rest follow in order."""
    a, b = PartyFactory(), PartyFactory()
    subscriber = subscriber_create(name="Mail", url=receiver.url)
    failed_once = set()

    def answer(r):
        event = r.event
        if event["party_id"] == a.pk and not failed_once:
            failed_once.add(event["id"])
            return (500, 0.0)
        return (200, 0.0)

    receiver.answer = answer
    for _ in range(3):
        _updated(a.pk, 1)
        _updated(b.pk, 1)
    webhooks_dispatch()

    deliveries_send(subscriber_id=subscriber.pk)
    first_round = [(e["party_id"], e["id"]) for e in receiver.events()]
    _due_now(subscriber)
    deliveries_send(subscriber_id=subscriber.pk)

    assert [p for p, _ in first_round] == [a.pk, b.pk, b.pk, b.pk]  # A's 2nd and 3rd waited
    delivered_a = [e["id"] for e in receiver.events()[len(first_round) :] if e["party_id"] == a.pk]
    all_a = sorted(Delivery.objects.filter(party_id=a.pk).values_list("sequence", flat=True))
    assert delivered_a == all_a  # retried first one, then the others, in order
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_receiver_that_is_down_is_rested_and_gets_the_whole_backlog_in_order_when_back(settings):
    """Down: after a few attempts that cannot connect, no more attempts until resume_at
    (not one failed attempt per pending event). Back: everything, in order per party."""
    receiver = Receiver().start()
    url = receiver.url
    receiver.stop()  # nothing listens on that port now
    subscriber = subscriber_create(name="ERP", url=url)
    parties = [PartyFactory() for _ in range(4)]
    for party in parties:
        _updated(party.pk, 5)
    webhooks_dispatch()

    down = deliveries_send(subscriber_id=subscriber.pk)
    subscriber.refresh_from_db()
    tried = Delivery.objects.filter(subscriber=subscriber, attempts__gt=0).count()
    assert down.rested and subscriber.resume_at and subscriber.failing_since
    assert tried == sending.DOWN_AFTER  # the rest were not tried one by one
    assert deliveries_send(subscriber_id=subscriber.pk).delivered == 0  # resting: nothing tried

    port = int(url.split(":")[2].split("/")[0])
    back = Receiver().start(port=port)
    try:
        Subscriber.objects.filter(pk=subscriber.pk).update(resume_at=timezone.now())
        deliveries_send(subscriber_id=subscriber.pk)
    finally:
        back.stop()

    ids = [e["id"] for e in back.events()]
    assert sorted(set(ids)) == sorted(Delivery.objects.values_list("sequence", flat=True))
    for party in parties:
        mine = [e["id"] for e in back.events() if e["party_id"] == party.pk]
        assert mine == sorted(mine) and len(mine) == 5
    subscriber.refresh_from_db()
    assert (subscriber.failure_streak, subscriber.failing_since, subscriber.resume_at) == (0, None, None)


def test_a_delivery_failing_past_the_retry_window_is_dead_and_redeliver_sends_it(receiver, settings):
    settings.C360_WEBHOOK_RETRY_HOURS = 1
    receiver.answer = lambda r: (410, 0.0)
    subscriber = subscriber_create(name="Old", url=receiver.url)
    party = PartyFactory()
    _updated(party.pk, 1)
    webhooks_dispatch()
    Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=59, seconds=59))

    deliveries_send(subscriber_id=subscriber.pk)

    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DEAD and "gave up after 1 attempts" in row.error
    from c360.webhooks.services.subscribers import delivery_redeliver

    receiver.answer = lambda r: (200, 0.0)
    delivery_redeliver(delivery_id=row.pk)
    deliveries_send(subscriber_id=subscriber.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_pending_deliveries_older_than_the_window_die_but_not_while_paused(receiver, settings):
    settings.C360_WEBHOOK_RETRY_HOURS = 1
    subscriber = subscriber_create(name="Paused", url=receiver.url)
    party = PartyFactory()
    _updated(party.pk, 2)
    webhooks_dispatch()
    subscriber_pause(subscriber_id=subscriber.pk)
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=3))
    assert deliveries_send(subscriber_id=subscriber.pk).delivered == 0  # paused: nothing sent

    subscriber_resume(subscriber_id=subscriber.pk)  # the paused time does not count
    result = deliveries_send(subscriber_id=subscriber.pk)

    assert (result.delivered, result.dead) == (2, 0)
    assert len(receiver.received) == 2


def test_a_subscriber_gets_only_the_types_it_wants_and_only_events_after_it_registered(receiver):
    party = PartyFactory()
    _updated(party.pk, 2)  # before it registered
    subscriber = subscriber_create(name="Consents", url=receiver.url, event_types=["consent.changed"])
    _updated(party.pk, 1)
    outbox.consent_changed_event(
        party_id=party.pk,
        scope="channel",
        key="email/newsletter",
        status="opt_out",
        previous_status="opt_in",
        actor=None,
    )
    webhooks_dispatch()
    deliveries_send(subscriber_id=subscriber.pk)

    assert [e["type"] for e in receiver.events()] == ["consent.changed"]
    assert receiver.events()[0]["data"]["status"] == "opt_out"


def test_two_workers_never_deliver_to_one_subscriber_at_once(receiver):
    subscriber = subscriber_create(name="Lease", url=receiver.url)
    assert sending._lease_take(subscriber.pk, "worker-a")
    assert not sending._lease_take(subscriber.pk, "worker-b")
    assert not deliveries_send(subscriber_id=subscriber.pk).leased
    Subscriber.objects.filter(pk=subscriber.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sending._lease_take(subscriber.pk, "worker-b")  # the first one died: taken over


def test_the_dispatcher_sends_the_delivery_task_for_deliveries_it_has_just_made(receiver, monkeypatch):
    """Regression: the dispatcher took the time before its fan-out and found the deliveries it
    had just made not yet due, so nothing was sent until the next beat."""
    from django.core.cache import cache

    from c360.webhooks.services import dispatch

    subscriber = subscriber_create(name="Due", url=receiver.url)
    cache.delete(dispatch.SEND_QUEUED_KEY.format(subscriber.pk))
    sent = []
    monkeypatch.setattr(dispatch, "send_soon", lambda subscriber_id: sent.append(subscriber_id) or True)
    _updated(PartyFactory().pk, 1)

    assert webhooks_dispatch()["sent"] == 1
    assert sent == [subscriber.pk]


def test_a_paused_subscriber_keeps_getting_its_deliveries_and_sends_them_when_resumed(receiver):
    """Regression: the dispatcher fanned out to active subscribers only, so events that came
    while one was paused never reached its log (and were lost to it)."""
    subscriber = subscriber_create(name="Paused", url=receiver.url)
    subscriber_pause(subscriber_id=subscriber.pk)
    _updated(PartyFactory().pk, 3)

    webhooks_dispatch()
    assert Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).count() == 3
    assert deliveries_send(subscriber_id=subscriber.pk).delivered == 0

    subscriber_resume(subscriber_id=subscriber.pk)
    assert deliveries_send(subscriber_id=subscriber.pk).delivered == 3
    assert len(receiver.received) == 3


def test_a_receiver_answering_with_an_endless_body_does_not_hold_the_worker():
    """The answer's body is never read: a receiver announcing a gigabyte and sending it slowly
    costs the worker nothing (it used to download whatever the receiver sent)."""
    import socket
    import threading
    import time

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n" + b"x" * 1_000_000)
        time.sleep(20)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    subscriber = subscriber_create(name="Endless", url=f"http://127.0.0.1:{port}/hooks")
    _updated(PartyFactory().pk, 1)
    webhooks_dispatch()

    started = time.monotonic()
    result = deliveries_send(subscriber_id=subscriber.pk)

    assert result.delivered == 1 and time.monotonic() - started < 5
    server.close()


def test_a_name_taken_between_the_check_and_the_save_is_a_refusal_on_the_name_not_a_500(monkeypatch):
    """Two administrators registering one name at once: the unique index decides, and the
    second is told on the name field (it was an IntegrityError)."""
    from django.core.exceptions import ValidationError

    from c360.webhooks.services import subscribers

    Subscriber.objects.create(name="CRM", url="http://127.0.0.1:9/a", secret="whsec_x")
    monkeypatch.setattr(subscribers.Subscriber.objects, "filter", _no_duplicate_seen(subscribers))

    with pytest.raises(ValidationError) as refused:
        subscribers.subscriber_create(name="CRM", url="http://127.0.0.1:9/b")

    assert "exists already" in refused.value.message_dict["name"][0]
    assert Subscriber.objects.count() == 1


def _no_duplicate_seen(subscribers):
    """The check before the save sees no subscriber of that name (the other one commits after it)."""
    real = subscribers.Subscriber.objects.filter

    def filtered(*args, **kwargs):
        if "name__iexact" in kwargs:
            return subscribers.Subscriber.objects.none()
        return real(*args, **kwargs)

    return filtered
