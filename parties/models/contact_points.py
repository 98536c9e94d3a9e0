"""Contact points: the ways to reach a party. Each keeps the raw value as received and a
normalized one that lookups and de-duplication use."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Right


class ContactUsage(models.TextChoices):
    HOME = "home", "Home"
    WORK = "work", "Work"
    MOBILE = "mobile", "Mobile"
    OTHER = "other", "Other"


class AddressUsage(models.TextChoices):
    HOME = "home", "Home"
    WORK = "work", "Work"
    BILLING = "billing", "Billing"
    SHIPPING = "shipping", "Shipping"
    OTHER = "other", "Other"


class Validity(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
    VERIFIED = "verified", "Verified"


class PhoneType(models.TextChoices):
    UNKNOWN = "", "Unknown"
    MOBILE = "mobile", "Mobile"
    FIXED = "fixed", "Fixed line"
    VOIP = "voip", "VoIP"
    TOLL_FREE = "toll_free", "Toll free"


class ContactPoint(models.Model):
    """Fields every kind of contact point has: usage, primary flag, validity, provenance."""

    # Provenance: the record that first reported the value (written with the contact point in
    # bulk imports, so without a database-level check; see bulk_writer), and any others.
    source_record = models.ForeignKey(
        "parties.SourceRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="first_%(class)ss",
        help_text="The source record that first reported it.",
    )
    other_source_records = models.ManyToManyField(
        "parties.SourceRecord",
        blank=True,
        related_name="%(class)s_reports",
        help_text="Further source records that reported the same value.",
    )
    is_primary = models.BooleanField(default=False)
    validity = models.CharField(max_length=12, choices=Validity.choices, default=Validity.UNVERIFIED)
    validity_reason = models.CharField(max_length=200, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Deactivated contact points are kept, never hard-deleted."
    )
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-is_primary", "id"]

    def reporting_records(self) -> list:
        """Every source record that reported this value, the first one first."""
        others = [r for r in self.other_source_records.all() if r.pk != self.source_record_id]
        return ([self.source_record] if self.source_record_id else []) + others


class ContactPointEmail(ContactPoint):
    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="emails",
        db_index=False,  # the unique (party, normalized) index serves lookups by party
    )
    usage = models.CharField(max_length=12, choices=ContactUsage.choices, default=ContactUsage.HOME)
    raw_value = models.CharField(max_length=320)
    normalized = models.CharField(max_length=320, help_text="Lower-cased, syntax-checked.")

    class Meta(ContactPoint.Meta):
        verbose_name = "email address"
        constraints = [
            models.UniqueConstraint(fields=["party", "normalized"], name="email_unique_per_party"),
        ]
        indexes = [models.Index(fields=["normalized"], name="email_normalized_idx")]

    def __str__(self) -> str:
        return self.normalized or self.raw_value


class ContactPointPhone(ContactPoint):
    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="phones",
        db_index=False,  # the unique (party, normalized) index serves lookups by party
    )
    usage = models.CharField(max_length=12, choices=ContactUsage.choices, default=ContactUsage.HOME)
    phone_type = models.CharField(max_length=12, choices=PhoneType.choices, blank=True)
    raw_value = models.CharField(max_length=64)
    normalized = models.CharField(
        max_length=32, help_text="E.164 when the number could be parsed, else its digits."
    )
    country = models.CharField(max_length=2, blank=True)
    extension = models.CharField(max_length=16, blank=True)

    class Meta(ContactPoint.Meta):
        verbose_name = "phone number"
        constraints = [
            models.UniqueConstraint(fields=["party", "normalized"], name="phone_unique_per_party"),
        ]
        indexes = [
            models.Index(fields=["normalized"], name="phone_normalized_idx"),
            # a number written the national way is found by its last 9 digits
            models.Index(Right("normalized", 9), name="phone_last9_idx"),
        ]

    def __str__(self) -> str:
        return self.normalized or self.raw_value

    @staticmethod
    def matching_digits(text: str) -> models.Q | None:
        """Whether a phone number written any way (national, international, with separators)
        matches: by its E.164 form's last 9 digits, with an index; None for too few digits."""
        digits = "".join(c for c in text if c.isdigit())
        significant = digits.lstrip("0")  # a national trunk 0 is not part of the E.164 form
        if len(significant) < 6:
            return None
        if len(significant) >= 9:
            return models.Q(last9=digits[-9:])
        return models.Q(normalized__endswith=significant)

    @classmethod
    def with_last9(cls, queryset=None):
        return (queryset if queryset is not None else cls.objects.all()).alias(last9=Right("normalized", 9))


class ContactPointAddress(ContactPoint):
    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="addresses",
        db_index=False,  # the unique (party, normalized) index serves lookups by party
    )
    usage = models.CharField(max_length=12, choices=AddressUsage.choices, default=AddressUsage.HOME)
    raw_value = models.TextField(help_text="The address as received, all lines joined.")
    line1 = models.CharField(max_length=200, blank=True)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    normalized = models.CharField(
        max_length=400, help_text="Canonical one-line form used to de-duplicate addresses."
    )

    class Meta(ContactPoint.Meta):
        verbose_name = "postal address"
        verbose_name_plural = "postal addresses"
        constraints = [
            models.UniqueConstraint(fields=["party", "normalized"], name="address_unique_per_party"),
        ]
        indexes = [
            models.Index(fields=["postal_code"], name="address_postal_code_idx"),
            models.Index(fields=["country", "city"], name="address_country_city_idx"),
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in [self.line1, self.postal_code, self.city, self.country] if p)


class ContactPointSocial(ContactPoint):
    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="socials",
        db_index=False,  # the unique (party, normalized) index serves lookups by party
    )
    network = models.CharField(max_length=32, help_text="e.g. linkedin, instagram, x")
    raw_value = models.CharField(max_length=300)
    normalized = models.CharField(max_length=300, help_text="Lower-cased handle without @")
    url = models.URLField(blank=True)

    class Meta(ContactPoint.Meta):
        verbose_name = "social profile"
        constraints = [
            models.UniqueConstraint(
                fields=["party", "network", "normalized"], name="social_unique_per_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.normalized}"
