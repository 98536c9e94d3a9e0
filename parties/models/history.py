"""Survivorship rules, steward overrides, and the audit trail of merges, unmerges and splits."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GOLDEN_ATTRIBUTE_CHOICES = [
    ("salutation", "Salutation"),
    ("given_name", "Given name"),
    ("middle_name", "Middle name"),
    ("family_name", "Family name"),
    ("name_suffix", "Name suffix"),
    ("birth_date", "Birth date"),
    ("gender", "Gender"),
    ("organization_name", "Organization name"),
]


class Rule(models.TextChoices):
    TRUST_RANK = "trust_rank", "Source trust rank"
    MOST_RECENT = "most_recent", "Most recent"
    MOST_FREQUENT = "most_frequent", "Most frequent"
    LONGEST = "longest", "Most complete (longest)"


class SurvivorshipRule(models.Model):
    """Which rule picks the golden value of one attribute (absent: source trust rank)."""

    attribute = models.CharField(max_length=32, choices=GOLDEN_ATTRIBUTE_CHOICES, unique=True)
    rule = models.CharField(max_length=16, choices=Rule.choices, default=Rule.TRUST_RANK)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["attribute"]

    def __str__(self) -> str:
        return f"{self.get_attribute_display()}: {self.get_rule_display()}"


class GoldenOverride(models.Model):
    """A steward's choice of one golden value; it wins over every rule until removed."""

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="overrides")
    attribute = models.CharField(max_length=32, choices=GOLDEN_ATTRIBUTE_CHOICES)
    value = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attribute"]
        constraints = [
            models.UniqueConstraint(fields=["party", "attribute"], name="override_unique_per_attribute")
        ]

    def __str__(self) -> str:
        return f"{self.party_id}.{self.attribute} = {self.value!r}"


class EventKind(models.TextChoices):
    MERGE = "merge", "Merge"
    AUTO_MERGE = "auto_merge", "Automatic merge"
    UNMERGE = "unmerge", "Unmerge"
    SPLIT = "split", "Split"
    REJECT = "reject", "Not a match"
    OVERRIDE_SET = "override_set", "Override set"
    OVERRIDE_REMOVED = "override_removed", "Override removed"
    CONTACT_POINT = "contact_point", "Contact point edited"
    ACCESS_EXPORT = "access_export", "Subject access export"
    ERASURE = "erasure", "Erasure (right to be forgotten)"


class AuditTrailImmutable(Exception):
    """The audit trail is append-only."""


class PartyEvent(models.Model):
    """One entry of the audit trail. Written once, never changed: ``save`` refuses updates and
    ``delete`` refuses to run, and neither the admin nor any page offers to edit it."""

    kind = models.CharField(max_length=20, choices=EventKind.choices)
    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The survivor of a merge, the party split or changed.",
    )
    parties = models.ManyToManyField(
        "parties.Party", related_name="events", help_text="Every party the event touched."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who or which rule: shown as is.")
    suggestion_id = models.PositiveBigIntegerField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    before = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="Snapshot of the parties before."
    )
    after = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="Snapshot of the parties after."
    )
    changes = models.JSONField(
        default=dict, encoder=DjangoJSONEncoder, help_text="What moved, so it can be undone."
    )
    reverts = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reverted_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: set on the events ``party_history`` returns, for the history page.
    undone: PartyEvent | None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "created_at"], name="partyevent_kind_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.actor_label})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AuditTrailImmutable("audit trail entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditTrailImmutable("audit trail entries cannot be deleted")

    @property
    def is_merge(self) -> bool:
        return self.kind in (EventKind.MERGE, EventKind.AUTO_MERGE)
