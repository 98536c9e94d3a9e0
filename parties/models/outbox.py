"""The outbox of change events for other systems (webhooks, the pull feed).

Every change to a customer writes a ``ChangeEvent`` in the same transaction as the change
(``parties/services/outbox.py``, one function per type). Its ``sequence`` — the event id other
systems see — is given after commit by the sequencer, one committed batch at a time and in
``id`` order, so a reader that has seen sequence N never later finds a committed event below
N (ids from a database sequence are taken before commit and can become visible out of order;
sequences cannot). Events hold ids, kinds and field names, never a customer's values: an
erased customer leaves nothing personal here.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ChangeEventType(models.TextChoices):
    PARTY_CREATED = "party.created", "Customer created"
    PARTY_UPDATED = "party.updated", "Customer updated"
    PARTY_MERGED = "party.merged", "Customers merged"
    PARTY_UNMERGED = "party.unmerged", "Merge undone"
    PARTY_SPLIT = "party.split", "Customer split"
    PARTY_ERASED = "party.erased", "Customer erased"
    CONSENT_CHANGED = "consent.changed", "Consent changed"
    PREFERENCE_CHANGED = "preference.changed", "Privacy preference changed"
    CONTACT_POINT_ADDED = "contact_point.added", "Contact point added"
    CONTACT_POINT_CORRECTED = "contact_point.corrected", "Contact point corrected"
    CONTACT_POINT_VERIFIED = "contact_point.verified", "Contact point verified"
    CONTACT_POINT_DEACTIVATED = "contact_point.deactivated", "Contact point deactivated"


class ChangeEvent(models.Model):
    """One change, as other systems learn of it. Written once; ``sequence`` is set once."""

    id = models.BigAutoField(primary_key=True)
    sequence = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="The event id other systems see (set after commit)."
    )
    type = models.CharField(max_length=40, choices=ChangeEventType.choices)
    party_id = models.BigIntegerField(
        help_text="The party the event is about (a merge's survivor); events of one party are "
        "delivered in order."
    )
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=200, blank=True, help_text="A user name, 'import #N', or 'system'.")
    data = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="Ids and field names, never values."
    )

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["party_id", "sequence"], name="changeevent_party_seq_idx"),
            models.Index(fields=["type", "sequence"], name="changeevent_type_seq_idx"),
            # the sequencer's work list: committed events not yet numbered
            models.Index(
                fields=["id"], name="changeevent_unsequenced_idx", condition=models.Q(sequence__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence or '—'} (party {self.party_id})"


class ChangeEventParty(models.Model):
    """The other parties an event is about (a merge's absorbed parties, a split's new party),
    so a system following one of them finds it too."""

    event = models.ForeignKey(ChangeEvent, on_delete=models.CASCADE, related_name="other_parties")
    party_id = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "party_id"], name="changeeventparty_unique")]

    def __str__(self) -> str:
        return f"event {self.event_id} also about party {self.party_id}"


class ChangeEventSequence(models.Model):
    """One row: the last sequence given. Locked by the sequencer, so sequencing is one at a time."""

    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"last sequence {self.last}"
