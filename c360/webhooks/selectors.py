"""Reads of the webhooks: subscribers with the counts of their logs, and a delivery log page."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q, QuerySet

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber
from parties.models import ChangeEventType

# the event types as the pages group them (checkboxes, the log's filter)
EVENT_TYPE_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Customers", [(v, str(label)) for v, label in ChangeEventType.choices if v.startswith("party.")]),
    (
        "Consents and preferences",
        [
            (v, str(label))
            for v, label in ChangeEventType.choices
            if v.split(".")[0] in ("consent", "preference")
        ],
    ),
    (
        "Contact points",
        [(v, str(label)) for v, label in ChangeEventType.choices if v.startswith("contact_point.")],
    ),
]


def subscribers_with_counts() -> QuerySet[Subscriber]:
    """Every subscriber with ``pending``, ``delivered`` and ``dead``: how many of its deliveries
    are in each state."""
    return Subscriber.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)),
        dead=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DEAD)),
    ).order_by("name")


def deliveries_of(
    *, subscriber_id: int, statuses: Sequence[str] = (), types: Sequence[str] = ()
) -> QuerySet[Delivery]:
    """One subscriber's delivery log, newest first, narrowed to ``statuses`` and ``types``
    (empty: all). The values must be known ones: the callers check them."""
    deliveries = Delivery.objects.filter(subscriber_id=subscriber_id)
    if statuses:
        deliveries = deliveries.filter(status__in=list(statuses))
    if types:
        deliveries = deliveries.filter(event_type__in=list(types))
    return deliveries.order_by("-sequence", "-pk")
