"""Touch points (engagements) and memberships of a party."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models


class EngagementType(models.TextChoices):
    ORDER = "order", "Order"
    CASE = "case", "Support case"
    RETURN = "return", "Return"
    WEB_VISIT = "web_visit", "Web visit"
    EMAIL_INTERACTION = "email_interaction", "Email interaction"
    SMS_INTERACTION = "sms_interaction", "SMS interaction"
    SURVEY_RESPONSE = "survey_response", "Survey response"
    EVENT_ATTENDANCE = "event_attendance", "Event attended"


class EngagementChannel(models.TextChoices):
    WEB = "web", "Web"
    APP = "app", "Mobile app"
    STORE = "store", "Store"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    MAIL = "mail", "Mail"
    EVENT = "event", "Event"
    SOCIAL = "social", "Social"
    OTHER = "other", "Other"


class Engagement(models.Model):
    """A touch point: an order, a case, a visit, an email opened, an NPS answer, …"""

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="engagements")
    source_system = models.ForeignKey(
        "parties.SourceSystem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_record = models.ForeignKey(
        "parties.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in the source system")
    engagement_type = models.CharField(max_length=24, choices=EngagementType.choices)
    channel = models.CharField(max_length=12, choices=EngagementChannel.choices, blank=True)
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=32, blank=True, help_text="e.g. open, shipped, closed")
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    nps_score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    attributes = models.JSONField(default=dict, blank=True)
    last_import_job = models.ForeignKey(
        "parties.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # bookkeeping, as on SourceRecord
        help_text="The import that last delivered this touch point (created, changed or unchanged).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "engagement_type", "external_id"],
                condition=~models.Q(external_id=""),
                name="engagement_unique_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(nps_score__isnull=True) | models.Q(nps_score__lte=10),
                name="engagement_nps_0_to_10",
            ),
        ]
        indexes = [
            models.Index(fields=["party", "-occurred_at"], name="engagement_party_time_idx"),
            models.Index(fields=["engagement_type", "occurred_at"], name="engagement_type_time_idx"),
            # Lifetime value and order counts of many parties at once (segments) read only this.
            models.Index(
                fields=["party"],
                include=["engagement_type", "status", "amount"],
                condition=models.Q(engagement_type__in=["order", "return"]),
                name="engagement_money_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_engagement_type_display()} {self.occurred_at:%Y-%m-%d}"


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class Membership(models.Model):
    """A subscription or loyalty-program membership."""

    class ProgramType(models.TextChoices):
        LOYALTY = "loyalty", "Loyalty program"
        SUBSCRIPTION = "subscription", "Subscription"

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="memberships")
    source_system = models.ForeignKey(
        "parties.SourceSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The system that reported the membership; with the program and member number "
        "it identifies the membership in imports.",
    )
    source_record = models.ForeignKey(
        "parties.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    program_type = models.CharField(max_length=16, choices=ProgramType.choices)
    program_name = models.CharField(max_length=100)
    member_number = models.CharField(max_length=64, blank=True)
    tier = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    started_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    points_balance = models.IntegerField(null=True, blank=True)
    last_import_job = models.ForeignKey(
        "parties.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # bookkeeping, as on SourceRecord
        help_text="The import that last delivered this membership (created, changed or unchanged).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program_name", "-started_on"]
        constraints = [
            # Merges move memberships between parties; the key names no party, so no merge can
            # break it. Memberships without a number are matched by party and program instead.
            models.UniqueConstraint(
                fields=["source_system", "program_name", "member_number"],
                condition=~models.Q(member_number=""),
                name="membership_unique_member_number",
            ),
        ]
        indexes = [models.Index(fields=["program_name", "tier"], name="membership_program_tier_idx")]

    def __str__(self) -> str:
        return f"{self.program_name} {self.tier}".strip()
