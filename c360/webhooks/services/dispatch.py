"""From the outbox to the subscribers: number committed events, give each subscriber its
deliveries (fan-out), and send the delivery task of every subscriber with work due.

``dispatch_soon`` runs after every commit that wrote events (parties' extension point) and
the beat runs ``webhooks_dispatch`` every few seconds, for retries that fall due and for
anything a dead process left."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from parties.models import ChangeEvent
from parties.services.outbox import change_events_sequence

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 5000
DISPATCH_QUEUED_KEY = "webhooks:dispatch-queued"
SEND_QUEUED_KEY = "webhooks:send-queued:{}"


def dispatch_soon() -> None:
    """Send the dispatcher (at most one waiting at a time), if any subscriber is active."""
    if not Subscriber.objects.filter(status=SubscriberStatus.ACTIVE).exists():
        return
    if cache.add(DISPATCH_QUEUED_KEY, 1, timeout=30):
        from c360.webhooks.tasks import dispatch_task

        dispatch_task.delay()


def deliveries_fan_out(*, subscriber_id: int, batch: int = FAN_OUT_BATCH) -> int:
    """Give the subscriber one delivery per numbered event after its cursor that it wants;
    returns how many. The subscriber's row is locked meanwhile: one fan-out at a time."""
    made = 0
    while True:
        with transaction.atomic():
            subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
            if subscriber is None:  # deleted since the dispatcher listed it
                return made
            events = list(
                ChangeEvent.objects.filter(sequence__gt=subscriber.cursor)
                .order_by("sequence")
                .values_list("pk", "sequence", "party_id", "type", "occurred_at")[:batch]
            )
            if not events:
                return made
            now = timezone.now()
            rows = [
                Delivery(
                    subscriber_id=subscriber_id,
                    event_id=pk,
                    sequence=sequence,
                    party_id=party_id,
                    event_type=type_,
                    created_at=now,
                    next_attempt_at=now,
                )
                for pk, sequence, party_id, type_, _ in events
                if sequence is not None and subscriber.wants(type_)
            ]
            Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            Subscriber.objects.filter(pk=subscriber_id).update(cursor=events[-1][1])
            made += len(rows)
        if len(events) < batch:
            return made


def webhooks_dispatch() -> dict[str, int]:
    """Number, fan out, and send the delivery task of each active subscriber with due work
    whose receiver is not resting and that no worker holds."""
    cache.delete(DISPATCH_QUEUED_KEY)  # a commit from now on sends another dispatcher
    numbered = change_events_sequence()
    made, sent = 0, 0
    for subscriber in Subscriber.objects.all():  # a paused one too: its events wait in its log
        made += deliveries_fan_out(subscriber_id=subscriber.pk)
        if subscriber.status != SubscriberStatus.ACTIVE:
            continue
        now = timezone.now()  # after the fan-out: its deliveries are due at once
        if subscriber.resume_at and subscriber.resume_at > now:
            continue
        if subscriber.lease_until and subscriber.lease_until > now:
            continue  # a worker is on it; it looks for more before it lets go
        due = Delivery.objects.filter(
            subscriber_id=subscriber.pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).exists()
        if due and send_soon(subscriber.pk):
            sent += 1
    return {"numbered": numbered, "deliveries": made, "sent": sent}


def send_soon(subscriber_id: int) -> bool:
    """Send the delivery task for one subscriber unless one is already waiting."""
    if not cache.add(SEND_QUEUED_KEY.format(subscriber_id), 1, timeout=60):
        return False
    from c360.webhooks.tasks import send_task

    send_task.delay(subscriber_id)
    return True
