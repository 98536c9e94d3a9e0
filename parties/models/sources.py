"""Where customer data comes from: source systems and their rows, kept verbatim."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SourceKind(models.TextChoices):
    CRM = "crm", "CRM"
    POS = "pos", "Point of sale"
    ERP = "erp", "ERP"
    ECOMMERCE = "ecommerce", "E-commerce / web shop"
    SUPPORT = "support", "Support desk"
    MARKETING = "marketing", "Marketing platform"
    LOYALTY = "loyalty", "Loyalty program"
    THIRD_PARTY_LIST = "third_party_list", "Bought / third-party list"
    OTHER = "other", "Other"


class DataCategory(models.TextChoices):
    ZERO_PARTY = "0p", "Zero-party (given by the customer)"
    FIRST_PARTY = "1p", "First-party (own systems)"
    SECOND_PARTY = "2p", "Second-party (a partner's first-party data)"
    THIRD_PARTY = "3p", "Third-party (bought or aggregated)"


class DateOrder(models.TextChoices):
    DMY = "DMY", "Day/month/year"
    MDY = "MDY", "Month/day/year"
    YMD = "YMD", "Year/month/day"


class SourceSystem(models.Model):
    """A system that holds its own copy of customers (CRM, POS, a bought list, …)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=SourceKind.choices, default=SourceKind.OTHER)
    data_category = models.CharField(
        max_length=2, choices=DataCategory.choices, default=DataCategory.FIRST_PARTY
    )
    trust_rank = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="1 = most trusted. Survivorship prefers values from better-ranked sources.",
    )
    default_region = models.CharField(
        max_length=2,
        default="US",
        help_text="ISO 3166 alpha-2 region used to read phone numbers written without +country.",
    )
    date_order = models.CharField(max_length=3, choices=DateOrder.choices, default=DateOrder.YMD)
    description = models.TextField(blank=True)
    column_mappings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Saved column mapping per file kind: {kind: {target field: [file columns]}}.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trust_rank", "name"]

    def __str__(self) -> str:
        return self.name


class SourceRecord(models.Model):
    """One row of one source system: the raw payload verbatim, and its standardized values."""

    source_system = models.ForeignKey(
        SourceSystem,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,  # the unique (source_system, source_key) index serves these lookups
    )
    source_key = models.CharField(max_length=255)
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="source_records")
    raw_payload = models.JSONField(help_text="The row exactly as the source delivered it.")
    standardized = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the raw payload.")
    source_updated_at = models.DateTimeField(null=True, blank=True)
    last_import_job = models.ForeignKey(
        "parties.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # bookkeeping written in bulk; see bulk_writer
    )
    import_line = models.PositiveIntegerField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source_system_id", "source_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_key"], name="sourcerecord_unique_key_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["source_key"], name="sourcerecord_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_system_id}:{self.source_key}"
