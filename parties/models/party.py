"""The party: the hub of the Customer 360 model and the golden record of one customer."""

from __future__ import annotations

from django.db import models
from django.urls import reverse


class PartyKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    ORGANIZATION = "organization", "Organization"


class PartyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MERGED = "merged", "Merged"


class Gender(models.TextChoices):
    UNKNOWN = "", "Unknown"
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    UNDISCLOSED = "undisclosed", "Prefers not to say"


class MaritalStatus(models.TextChoices):
    UNKNOWN = "", "Unknown"
    SINGLE = "single", "Single"
    MARRIED = "married", "Married / civil partnership"
    DIVORCED = "divorced", "Divorced / separated"
    WIDOWED = "widowed", "Widowed"


class IncomeBand(models.TextChoices):
    UNKNOWN = "", "Unknown"
    LOW = "low", "Under 30k"
    LOWER_MIDDLE = "lower_middle", "30k-60k"
    UPPER_MIDDLE = "upper_middle", "60k-120k"
    HIGH = "high", "Over 120k"


class EducationLevel(models.TextChoices):
    UNKNOWN = "", "Unknown"
    SECONDARY = "secondary", "Secondary school"
    VOCATIONAL = "vocational", "Vocational"
    BACHELOR = "bachelor", "Bachelor's degree"
    MASTER = "master", "Master's degree"
    DOCTORATE = "doctorate", "Doctorate"


class PartyQuerySet(models.QuerySet):
    def active(self) -> PartyQuerySet:
        return self.filter(status=PartyStatus.ACTIVE)


class Party(models.Model):
    """One customer, person or organization. Golden attributes are derived from the party's
    source records by survivorship rules. A merged party keeps its id and points at its
    survivor through ``merged_into`` so old references still resolve."""

    kind = models.CharField(max_length=16, choices=PartyKind.choices, default=PartyKind.INDIVIDUAL)
    status = models.CharField(max_length=8, choices=PartyStatus.choices, default=PartyStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_parties"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(
        max_length=300, blank=True, help_text="Derived: the name to show and sort by."
    )

    # Individual
    salutation = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    name_suffix = models.CharField(max_length=20, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True)
    marital_status = models.CharField(max_length=16, choices=MaritalStatus.choices, blank=True)
    income_band = models.CharField(max_length=16, choices=IncomeBand.choices, blank=True)
    education_level = models.CharField(max_length=16, choices=EducationLevel.choices, blank=True)
    occupation = models.CharField(max_length=100, blank=True)
    household_size = models.PositiveSmallIntegerField(null=True, blank=True)
    preferred_language = models.CharField(max_length=8, blank=True, help_text="BCP 47, e.g. de-AT")

    # Organization
    organization_name = models.CharField(max_length=200, blank=True, help_text="Legal name")
    registration_id = models.CharField(max_length=64, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    website = models.URLField(blank=True)

    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the customer's personal data was erased on request."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartyQuerySet.as_manager()

    # Not a column: the golden attributes ``party_golden_refresh`` changed (for change events).
    golden_changed: list[str]

    class Meta:
        verbose_name_plural = "parties"
        ordering = ["display_name", "id"]
        permissions = [
            ("merge_party", "Can merge, unmerge and split parties"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status=PartyStatus.ACTIVE, merged_into__isnull=True)
                    | models.Q(status=PartyStatus.MERGED, merged_into__isnull=False)
                ),
                name="party_merged_has_survivor",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")),
                name="party_not_merged_into_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["display_name"], name="party_display_name_idx"),
            models.Index(fields=["family_name", "given_name"], name="party_family_given_idx"),
            models.Index(fields=["organization_name"], name="party_org_name_idx"),
            models.Index(fields=["birth_date"], name="party_birth_date_idx"),
            models.Index(fields=["status", "kind"], name="party_status_kind_idx"),
            models.Index(fields=["updated_at"], name="party_updated_at_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name or f"Party {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("parties:detail", args=[self.pk])

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_merged(self) -> bool:
        return self.status == PartyStatus.MERGED

    def compute_display_name(self) -> str:
        if self.kind == PartyKind.ORGANIZATION:
            return self.organization_name.strip()
        parts = [self.given_name, self.middle_name, self.family_name, self.name_suffix]
        return " ".join(p.strip() for p in parts if p and p.strip())
