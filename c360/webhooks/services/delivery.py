"""Sending deliveries: signed POSTs, one event each, oldest first, in order per party.

One worker at a time delivers to a subscriber (a lease on its row, renewed as it goes, that
a dead worker's successor takes over when it expires). A delivery is marked delivered only
after a 2xx answer; a worker killed between the answer and the mark sends it again, so
delivery is at least once and receivers ignore event ids they have seen.

Order per party: a delivery is sent only when no earlier pending delivery of the same party
is waiting for a retry. A failed delivery waits (exponential backoff with jitter) and so do
the later events of its party; other parties go on. When several attempts in a row fail to
reach the receiver at all (connection refused, timeouts, 5xx), the subscriber rests — no
attempt before ``resume_at`` — instead of failing every pending delivery one by one; the
first success afterwards sends the whole backlog at once. A delivery still failing after the
retry window (24 hours by default) is dead: it stays in the log, and "redeliver" sends it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.services.signing import SIGNATURE_HEADER, signature_header
from parties.models import ChangeEventParty
from parties.services.outbox import change_event_document

logger = logging.getLogger(__name__)

PAGE = 200
MARK_BATCH = 50  # attempts written to the log per transaction
CHECK_SECONDS = 1.0  # a running worker looks at its subscriber (lease, pause, URL) this often
DOWN_AFTER = 3  # attempts in a row that could not reach the receiver: it is down, rest


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def backoff_seconds(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling from the base up
    to the cap, times a random factor in [0.5, 1] (jitter: receivers coming back are not hit
    by every sender at the same instant)."""
    base = _setting("C360_WEBHOOK_BACKOFF_SECONDS", 10)
    cap = _setting("C360_WEBHOOK_BACKOFF_MAX_SECONDS", 900)
    return min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)  # noqa: S311 (jitter)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease_take(subscriber_id: int, owner: str) -> bool:
    now = timezone.now()
    until = now + timedelta(seconds=_setting("C360_WEBHOOK_LEASE_SECONDS", 60))
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner)
    return bool(
        Subscriber.objects.filter(Q(pk=subscriber_id) & free).update(lease_owner=owner, lease_until=until)
    )


def _lease_release(subscriber_id: int, owner: str) -> None:
    Subscriber.objects.filter(pk=subscriber_id, lease_owner=owner).update(lease_owner="", lease_until=None)


@dataclass
class SendResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0  # waiting behind an earlier event of their party
    rested: bool = False  # the receiver looked down: no attempt before resume_at
    leased: bool = True  # False: another worker holds the subscriber
    more: bool = False  # stopped by the time budget with work left
    codes: list[int] = field(default_factory=list)


def _body(delivery: Delivery, others: list[int]) -> bytes:
    return json.dumps(change_event_document(delivery.event, others), separators=(",", ":")).encode()


_watch = threading.local()  # the connection of the POST this thread is making


def _watched(pool_class: Any) -> Any:
    """A connection pool that tells ``_post`` which connection carries its request."""

    class Watched(pool_class):
        def _get_conn(self, timeout=None):
            conn = super()._get_conn(timeout)
            holder = getattr(_watch, "holder", None)
            if holder is not None:
                holder["conn"] = conn
            return conn

    return Watched


def _session() -> requests.Session:
    session = requests.Session()
    for prefix in ("http://", "https://"):
        manager = session.get_adapter(prefix).poolmanager  # type: ignore[attr-defined]
        manager.pool_classes_by_scheme = {
            scheme: _watched(cls) for scheme, cls in manager.pool_classes_by_scheme.items()
        }
    return session


class _AnswerTooSlow(requests.Timeout):
    """No complete answer (status and headers) within the timeout."""


class _Watchdog:
    """One thread per sending run that cuts the connection of a POST whose answer (status and
    headers) has not all come by its deadline: ``requests``' read timeout is per read, so a
    receiver dripping a byte at a time would otherwise hold the worker as long as it liked."""

    TICK = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: tuple[float, dict] | None = None
        self._closed = threading.Event()
        threading.Thread(target=self._run, name="webhook-watchdog", daemon=True).start()

    def arm(self, seconds: float, holder: dict) -> None:
        with self._lock:
            self._armed = (time.monotonic() + seconds, holder)

    def disarm(self) -> None:
        with self._lock:
            self._armed = None

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self.TICK):
            with self._lock:
                if self._armed is None or time.monotonic() < self._armed[0]:
                    continue
                holder = self._armed[1]
                self._armed = None
                sock = getattr(holder.get("conn"), "sock", None)
                if sock is not None:
                    holder["fired"] = True
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


def _post(
    session: requests.Session,
    watchdog: _Watchdog,
    subscriber: Subscriber,
    delivery: Delivery,
    body: bytes,
):
    """The POST, cut off by the watchdog when its answer has not all come within the connect
    and read timeouts together."""
    connect, read = (
        _setting("C360_WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3),
        _setting("C360_WEBHOOK_TIMEOUT_SECONDS", 10),
    )
    holder: dict = {}
    _watch.holder = holder
    watchdog.arm(connect + read, holder)
    try:
        return _post_now(session, subscriber, delivery, body, timeout=(connect, read))
    except requests.RequestException as exc:
        if holder.get("fired"):
            raise _AnswerTooSlow(f"no complete answer within {connect + read:g} s") from exc
        raise
    finally:
        watchdog.disarm()
        _watch.holder = None


def _post_now(
    session: requests.Session,
    subscriber: Subscriber,
    delivery: Delivery,
    body: bytes,
    *,
    timeout: tuple[float, float],
):
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "C360-Steward-Webhooks/1",
        "C360-Event-Id": str(delivery.sequence),
        "C360-Event-Type": delivery.event_type,
        "C360-Delivery-Attempt": str(delivery.attempts + 1),
        SIGNATURE_HEADER: signature_header(secret=subscriber.secret, body=body),
    }
    # stream: the answer's body is never read (a receiver cannot make the worker download gigabytes)
    return session.post(
        subscriber.url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
    )


def _window_start(delivery: Delivery, subscriber: Subscriber) -> datetime:
    start = delivery.created_at
    if subscriber.resumed_at and subscriber.resumed_at > start:
        start = subscriber.resumed_at
    return start


def _expire(subscriber: Subscriber, now: datetime) -> int:
    """Pending deliveries whose retry window (from their creation, or from the subscriber's
    last resume if later) has passed are dead."""
    hours = _setting("C360_WEBHOOK_RETRY_HOURS", 24)
    cutoff = now - timedelta(hours=hours)
    if subscriber.resumed_at and subscriber.resumed_at >= cutoff:
        return 0
    return Delivery.objects.filter(
        subscriber=subscriber, status=DeliveryStatus.PENDING, created_at__lt=cutoff
    ).update(status=DeliveryStatus.DEAD, error=f"gave up: not delivered within {hours:g} hours")


def deliveries_send(*, subscriber_id: int, budget_seconds: float = 50.0) -> SendResult:
    """Send the subscriber's due deliveries for up to ``budget_seconds`` (see the module)."""
    result = SendResult()
    owner = _owner()
    if not _lease_take(subscriber_id, owner):
        result.leased = False
        return result
    started = checked = time.monotonic()
    check_every = min(CHECK_SECONDS, _setting("C360_WEBHOOK_LEASE_SECONDS", 60) / 3)
    session = _session()
    watchdog = _Watchdog()
    marks: list[tuple[int, dict]] = []
    try:
        subscriber = Subscriber.objects.get(pk=subscriber_id)
        now = timezone.now()
        if subscriber.status != SubscriberStatus.ACTIVE or (
            subscriber.resume_at and subscriber.resume_at > now
        ):
            return result
        result.dead += _expire(subscriber, now)
        after = 0
        rescan = False
        down_in_a_row = 0
        blocked: set[int] = set()  # parties with an event that failed in this run
        # parties whose oldest pending delivery is not going in this pass (it waits for its
        # retry): their later deliveries are skipped without asking the database again, so a
        # party with thousands of events behind a failed one costs one look, not one a page
        held: set[int] = set()
        while True:
            if time.monotonic() - started > budget_seconds:
                result.more = True
                return result
            if not _lease_take(subscriber_id, owner):  # renewed; lost: another worker took over
                result.leased = False
                return result
            checked = time.monotonic()
            if not _subscriber_refresh(subscriber):
                return result
            now = timezone.now()
            page = list(
                Delivery.objects.filter(
                    subscriber_id=subscriber_id,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at__lte=now,
                    sequence__gt=after,
                )
                .select_related("event")
                .order_by("sequence")[:PAGE]
            )
            if not page:
                if not rescan:
                    return result
                after, rescan = 0, False  # the receiver came back: its backlog is due now
                held.clear()
                continue
            after = page[-1].sequence
            others: dict[int, list[int]] = {}
            for event_id, party_id in ChangeEventParty.objects.filter(
                event_id__in=[d.event_id for d in page]
            ).values_list("event_id", "party_id"):
                others.setdefault(event_id, []).append(party_id)
            # every pending event of these parties (and of the other parties of a merge, an
            # unmerge, a split) up to the page's end, oldest first: a delivery goes only when
            # it is its party's oldest and no other party of it has an older one waiting
            concerned = {d.party_id for d in page}.union(*others.values())
            queue: dict[int, list[int]] = {}
            for party_id, sequence in (
                Delivery.objects.filter(
                    subscriber_id=subscriber_id,
                    status=DeliveryStatus.PENDING,
                    party_id__in=concerned - blocked - held,
                    sequence__lte=after,
                )
                .order_by("sequence")
                .values_list("party_id", "sequence")
            ):
                queue.setdefault(party_id, []).append(sequence)
            # pending events that name these parties as one of their other parties (a split
            # naming its new party): a later event of such a party waits for them
            named: dict[int, list[int]] = {}
            for party_id, sequence in (
                Delivery.objects.filter(
                    subscriber_id=subscriber_id,
                    status=DeliveryStatus.PENDING,
                    sequence__lte=after,
                    event__other_parties__party_id__in={d.party_id for d in page} - blocked - held,
                )
                .order_by("sequence")
                .values_list("event__other_parties__party_id", "sequence")
            ):
                named.setdefault(party_id, []).append(sequence)
            for delivery in page:
                if delivery.party_id in blocked or delivery.party_id in held:
                    result.skipped += 1
                    continue
                waiting = queue.get(delivery.party_id, [])
                if (
                    not waiting
                    or waiting[0] != delivery.sequence
                    or (named.get(delivery.party_id) or [delivery.sequence])[0] < delivery.sequence
                    or any(
                        other in blocked
                        or other in held
                        or (queue.get(other) or [delivery.sequence])[0] < delivery.sequence
                        for other in others.get(delivery.event_id, ())
                    )
                ):
                    held.add(delivery.party_id)  # an earlier one waits: so do all its later ones
                    result.skipped += 1
                    continue
                # a page of slow answers outlasts the lease: renew it as we go (or another
                # worker takes the subscriber over and sends the same events at once), and
                # heed a pause, a new URL or secret, a deletion within a second, not a run
                if time.monotonic() - checked > check_every:
                    if time.monotonic() - started > budget_seconds:
                        result.more = True
                        return result
                    if not _lease_take(subscriber_id, owner):
                        result.leased = False
                        return result
                    checked = time.monotonic()
                    if not _subscriber_refresh(subscriber):
                        return result
                ok, reached = _attempt(
                    (session, watchdog),
                    subscriber,
                    delivery,
                    _body(delivery, others.get(delivery.event_id, [])),
                    result,
                    marks,
                )
                if len(marks) >= MARK_BATCH:
                    _marks_write(marks)
                if ok:
                    waiting.pop(0)
                    for other in others.get(delivery.event_id, ()):
                        if delivery.sequence in named.get(other, ()):
                            named[other].remove(delivery.sequence)
                    down_in_a_row = 0
                    if subscriber.failure_streak or subscriber.failing_since:
                        _recovered(subscriber)
                        rescan = True
                    continue
                blocked.add(delivery.party_id)
                down_in_a_row = 0 if reached else down_in_a_row + 1
                if down_in_a_row >= DOWN_AFTER:
                    _marks_write(marks)
                    _rest(subscriber)
                    result.rested = True
                    return result
            _marks_write(marks)
    finally:
        _marks_write(marks)
        session.close()
        watchdog.close()
        _lease_release(subscriber_id, owner)


def _subscriber_refresh(subscriber: Subscriber) -> bool:
    """Its URL and secret as they are now; False when it was paused or deleted meanwhile."""
    fresh = Subscriber.objects.filter(pk=subscriber.pk).values_list("status", "url", "secret").first()
    if fresh is None or fresh[0] != SubscriberStatus.ACTIVE:
        return False
    subscriber.status, subscriber.url, subscriber.secret = fresh
    return True


def _marks_write(marks: list[tuple[int, dict]]) -> None:
    """The log lines of attempts made, in one transaction (one commit for many deliveries, not
    one each). A worker killed before this sends those deliveries again: at least once."""
    if not marks:
        return
    with transaction.atomic():
        for pk, values in marks:
            Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(**values)
    marks.clear()


def _attempt(
    sender: tuple[requests.Session, _Watchdog],
    subscriber: Subscriber,
    delivery: Delivery,
    body: bytes,
    result: SendResult,
    marks: list[tuple[int, dict]],
) -> tuple[bool, bool]:
    """One POST; its mark is added to ``marks``. Returns (delivered, the receiver answered with
    less than 500)."""
    started = time.monotonic()
    code: int | None = None
    error = ""
    try:
        response = _post(*sender, subscriber, delivery, body)
        code = response.status_code
        response.close()
        if not 200 <= code < 300:
            error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except requests.Timeout:
        error = "timed out"
    except requests.RequestException as exc:
        error = f"could not connect: {exc.__class__.__name__}"
    now = timezone.now()
    took = int((time.monotonic() - started) * 1000)
    common = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": now,
        "response_code": code,
        "duration_ms": took,
    }
    if not error:
        marks.append(
            (delivery.pk, {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "error": "", **common})
        )
        result.delivered += 1
        result.codes.append(code or 0)
        return True, True
    attempts = delivery.attempts + 1
    window = timedelta(hours=_setting("C360_WEBHOOK_RETRY_HOURS", 24))
    next_at = now + timedelta(seconds=backoff_seconds(attempts))
    if next_at - _window_start(delivery, subscriber) > window:
        marks.append(
            (
                delivery.pk,
                {
                    "status": DeliveryStatus.DEAD,
                    "error": f"{error}; gave up after {attempts} attempts",
                    **common,
                },
            )
        )
        result.dead += 1
    else:
        marks.append((delivery.pk, {"next_attempt_at": next_at, "error": error, **common}))
        result.failed += 1
    if code:
        result.codes.append(code)
    return False, code is not None and code < 500


def _rest(subscriber: Subscriber) -> None:
    now = timezone.now()
    streak = subscriber.failure_streak + 1
    Subscriber.objects.filter(pk=subscriber.pk).update(
        failure_streak=streak,
        failing_since=subscriber.failing_since or now,
        resume_at=now + timedelta(seconds=backoff_seconds(streak)),
    )


def _recovered(subscriber: Subscriber) -> None:
    """The receiver answers again: the waiting backlog goes now, not at each one's retry time."""
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk).update(failure_streak=0, failing_since=None, resume_at=None)
    Delivery.objects.filter(
        subscriber_id=subscriber.pk, status=DeliveryStatus.PENDING, next_attempt_at__gt=now
    ).update(next_attempt_at=now)
    subscriber.failure_streak, subscriber.failing_since = 0, None
