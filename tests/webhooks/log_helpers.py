"""Deliveries for the page and API tests: real change events, fanned out by the real
dispatcher, then put into the states a log shows."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from c360.webhooks.models import Delivery, DeliveryStatus
from c360.webhooks.services.dispatch import webhooks_dispatch
from parties.services.outbox import consent_changed_event, party_updated_event
from tests.factories import PartyFactory


def deliveries_make(*, updates: int = 3, consents: int = 1) -> list[Delivery]:
    """``updates`` party.updated and ``consents`` consent.changed events (one party each),
    given to every active subscriber; the subscriber's deliveries, oldest first."""
    with transaction.atomic():
        for _ in range(updates):
            party_updated_event(party_id=PartyFactory().pk, fields=["given_name"], actor=None)
        for _ in range(consents):
            consent_changed_event(
                party_id=PartyFactory().pk,
                scope="channel",
                key="email/newsletter",
                status="opt_out",
                previous_status="opt_in",
                actor=None,
            )
    webhooks_dispatch()
    return list(Delivery.objects.order_by("sequence"))


def deliveries_in_each_state(deliveries: list[Delivery]) -> dict[str, Delivery]:
    """The first delivered (200), the second retrying (503 once), the third dead; the rest pending."""
    now = timezone.now()
    delivered, retrying, dead = deliveries[:3]
    Delivery.objects.filter(pk=delivered.pk).update(
        status=DeliveryStatus.DELIVERED,
        attempts=1,
        response_code=200,
        last_attempt_at=now,
        delivered_at=now,
        duration_ms=12,
    )
    Delivery.objects.filter(pk=retrying.pk).update(
        attempts=1,
        response_code=503,
        error="HTTP 503",
        last_attempt_at=now,
        next_attempt_at=now + timedelta(minutes=5),
        duration_ms=40,
    )
    Delivery.objects.filter(pk=dead.pk).update(
        status=DeliveryStatus.DEAD,
        attempts=9,
        error="could not connect: ConnectionError; gave up after 9 attempts",
        last_attempt_at=now,
    )
    return {"delivered": delivered, "retrying": retrying, "dead": dead}
