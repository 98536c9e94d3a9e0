"""Webhook subscribers and their delivery log.

A subscriber is a URL other systems listen on, the event types it wants and the secret its
deliveries are signed with. Each change event it wants becomes one ``Delivery`` row (its log
line): pending until a 2xx answer, retried with backoff, dead after the retry window."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SubscriberStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Subscriber(models.Model):
    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500, help_text="Where deliveries are POSTed (http or https).")
    secret = models.CharField(max_length=100, help_text="Signs every delivery (HMAC-SHA256).")
    event_types = models.JSONField(default=list, blank=True, help_text="The types it wants; empty: all.")
    status = models.CharField(
        max_length=10, choices=SubscriberStatus.choices, default=SubscriberStatus.ACTIVE
    )
    cursor = models.BigIntegerField(
        default=0, help_text="The last event sequence given to it (as deliveries); it gets what comes after."
    )
    # the one worker delivering to it now (deliveries of one party go in order)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # the receiver is down: no delivery is tried before this time
    resume_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_streak = models.PositiveIntegerField(default=0, help_text="Runs in a row that found it down.")
    resumed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was last resumed: the retry window of a delivery starts then at the earliest.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_webhooks", "Can register, change, pause and redeliver webhook subscribers")]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead (gave up)"


class Delivery(models.Model):
    """One event for one subscriber: its attempts so far and the last answer."""

    id = models.BigAutoField(primary_key=True)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("parties.ChangeEvent", on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(help_text="The event's id (as other systems see it).")
    party_id = models.BigIntegerField()
    event_type = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-sequence"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event"], name="delivery_once_per_subscriber"),
        ]
        indexes = [
            models.Index(fields=["subscriber", "status", "sequence"], name="delivery_queue_idx"),
            models.Index(fields=["subscriber", "party_id", "status"], name="delivery_party_idx"),
            models.Index(fields=["subscriber", "-sequence"], name="delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.sequence} → {self.subscriber_id} ({self.status})"
