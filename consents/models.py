"""The Customer 360 consent model: purposes, consents per channel and per contact point,
party privacy preferences, and the append-only ledger every change is written to."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone"
    MAIL = "mail", "Mail"
    SOCIAL = "social", "Social"


class ConsentStatus(models.TextChoices):
    OPT_IN = "opt_in", "Opted in"
    OPT_OUT = "opt_out", "Opted out"
    NOT_SEEN = "not_seen", "Not seen"
    SEEN = "seen", "Seen, no answer"


EXPLICIT = (ConsentStatus.OPT_IN, ConsentStatus.OPT_OUT)


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Consent"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
    CONTRACT = "contract", "Contract"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"


class DataUsePurpose(models.Model):
    """Why customer data is used (marketing, newsletters, profiling, …) and on what basis."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices, default=LegalBasis.CONSENT)
    requires_opt_in = models.BooleanField(
        default=True, help_text="Contact only after an explicit opt-in (else: unless opted out)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsentState(models.Model):
    """What every consent row holds: the state and where and when it was captured."""

    purpose = models.ForeignKey(DataUsePurpose, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.NOT_SEEN)
    effective_from = models.DateTimeField(null=True, blank=True)
    effective_to = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(help_text="When the customer said so.")
    capture_source = models.CharField(max_length=200, help_text="Where: web form, call centre, …")
    capture_channel = models.CharField(
        max_length=10, choices=Channel.choices, blank=True, help_text="Through which kind of contact point."
    )
    double_opt_in_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ContactPointTypeConsent(ConsentState):
    """A party's consent for one channel and one purpose (all its email addresses, say)."""

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="channel_consents")
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        ordering = ["channel", "purpose_id"]
        constraints = [
            models.UniqueConstraint(fields=["party", "channel", "purpose"], name="typeconsent_unique")
        ]
        indexes = [models.Index(fields=["channel", "purpose", "status"], name="typeconsent_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.party_id} {self.channel}/{self.purpose_id}: {self.status}"


class ContactPointKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    ADDRESS = "address", "Postal address"


class ContactPointConsent(ConsentState):
    """Consent for one specific email address, phone number or postal address."""

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="point_consents")
    point_kind = models.CharField(max_length=8, choices=ContactPointKind.choices)
    point_id = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["point_kind", "point_id", "purpose_id"]
        constraints = [
            models.UniqueConstraint(fields=["point_kind", "point_id", "purpose"], name="pointconsent_unique")
        ]
        indexes = [models.Index(fields=["party"], name="pointconsent_party_idx")]

    def __str__(self) -> str:
        return f"{self.point_kind}#{self.point_id}/{self.purpose_id}: {self.status}"


class ContactFrequency(models.TextChoices):
    ANY = "", "No preference"
    WEEKLY = "weekly", "At most weekly"
    MONTHLY = "monthly", "At most monthly"
    QUARTERLY = "quarterly", "At most quarterly"
    NEVER = "never", "Never"


FREQUENCY_ORDER = ["", "weekly", "monthly", "quarterly", "never"]  # least to most restrictive


class PrivacyPreference(models.Model):
    """What the customer told us about themselves and how to treat them (zero-party data)."""

    party = models.OneToOneField("parties.Party", on_delete=models.PROTECT, related_name="privacy")
    do_not_process = models.BooleanField(default=False)
    do_not_profile = models.BooleanField(default=False)
    do_not_track = models.BooleanField(default=False)
    do_not_solicit = models.BooleanField(default=False)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    preferred_language = models.CharField(max_length=16, blank=True, help_text="BCP 47, e.g. de-AT")
    contact_frequency = models.CharField(max_length=10, choices=ContactFrequency.choices, blank=True)
    interests = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("handle_privacy_request", "Can export a customer's data (subject access)"),
            ("erase_party", "Can erase a customer's personal data (right to be forgotten)"),
        ]

    def __str__(self) -> str:
        return f"preferences of {self.party_id}"


class ActorKind(models.TextChoices):
    USER = "user", "Staff user"
    IMPORT = "import", "Import job"
    API = "api", "API client"
    MERGE = "merge", "Merge policy"
    SYSTEM = "system", "System"


class LedgerImmutable(Exception):
    """The consent ledger is append-only."""


class ConsentEvent(models.Model):
    """One change of a consent or a preference. The current state is the replay of these."""

    class Scope(models.TextChoices):
        CHANNEL = "channel", "Channel consent"
        POINT = "point", "Contact-point consent"
        PREFERENCE = "preference", "Privacy preference"

    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="consent_events")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    key = models.CharField(max_length=80, help_text="email/newsletter, email#12/marketing, do_not_solicit")
    previous = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    new = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    import_job_id = models.PositiveBigIntegerField(null=True, blank=True)
    import_line = models.PositiveIntegerField(null=True, blank=True)
    capture_source = models.CharField(max_length=200, blank=True)
    evidence = models.TextField(blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    # Not columns: the entry in words, set on the entries the consent page shows
    # (``consents.selectors._worded``).
    what: str
    change: str

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["party", "id"], name="consentevent_party_idx")]

    def __str__(self) -> str:
        return f"{self.party_id} {self.key}: {self.previous} → {self.new}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise LedgerImmutable("consent ledger entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("consent ledger entries cannot be deleted")


class TombstoneKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    SOURCE_KEY = "source_key", "Source system and key"
    IDENTIFIER = "identifier", "Identifier"
    PERSON = "person", "Name and birth date"


class ErasureTombstone(models.Model):
    """What is left of an erased customer: keyed hashes (HMAC-SHA256) of their identifiers, so
    that a later import of the same person is recognised and kept from being contacted —
    without keeping anything that reads as personal data."""

    kind = models.CharField(max_length=12, choices=TombstoneKind.choices)
    digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the normalized value, hex.")
    erasure_event_id = models.PositiveBigIntegerField(help_text="The erasure's audit-trail entry.")
    erased_at = models.DateTimeField()

    class Meta:
        ordering = ["-erased_at", "id"]
        indexes = [models.Index(fields=["digest"], name="tombstone_digest_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}…"


class PendingFileErasure(models.Model):
    """A stored import file an erasure has still to change: written in the erasure's own
    transaction (committed with it or not at all) and deleted in the same short transaction
    that changes the file (``consents.services.erasure.files``). A row left behind (the process
    died after the commit, the storage failed) is retried every minute by beat and by
    ``manage.py erasure_files``. It keeps no value of the person: the storage's name of the
    file (a random name), and the numbers of the lines to empty."""

    job = models.ForeignKey(
        "parties.ImportJob",
        on_delete=models.PROTECT,  # a job is not deleted while its file still holds an erased person
        related_name="+",
    )
    name = models.CharField(max_length=300, help_text="The file's name in the storage.")
    remove = models.BooleanField(help_text="Remove the file (else: empty the lines).")
    lines = models.JSONField(default=list, blank=True, help_text="The line numbers to empty.")
    encoding = models.CharField(max_length=40, blank=True)
    erasure_event_id = models.PositiveBigIntegerField(help_text="The erasure's audit-trail entry.")
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts so far.")
    last_error = models.CharField(max_length=200, blank=True, help_text="The last failure's kind.")
    last_tried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        action = "remove" if self.remove else f"empty {len(self.lines)} lines of"
        return f"{action} import #{self.job_id}'s file (erasure event {self.erasure_event_id})"


def validate_country_code(value: str) -> None:
    """An ISO 3166-1 alpha-2 code that exists (DE, FR, US …)."""
    import pycountry
    from django.core.exceptions import ValidationError

    if value and (len(value) != 2 or pycountry.countries.get(alpha_2=value.upper()) is None):
        raise ValidationError(f"“{value}” is not a country code (ISO 3166, like DE or FR).", code="country")


class EmailFilter(models.TextChoices):
    ANY = "", "Any"
    VALID = "yes", "Has a valid email address"
    NONE = "no", "Has no valid email address"


SEGMENT_CHANNELS = [(c.value, c.label) for c in (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.MAIL)]


class Segment(models.Model):
    """A saved filter over active, not erased parties. Every filter left empty matches
    everyone; filters that are set must all hold. Who is a member is decided each time the
    segment is read (``consents.services.segments.segment_members``), never stored."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text="ISO code of an active postal address, e.g. DE.",
    )
    source_system = models.ForeignKey(
        "parties.SourceSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Has a record from this source system.",
    )
    valid_email = models.CharField(
        max_length=3, choices=EmailFilter.choices, blank=True, verbose_name="valid email"
    )
    consent_channel = models.CharField(
        max_length=10, choices=SEGMENT_CHANNELS, blank=True, verbose_name="opted in on channel"
    )
    consent_purpose = models.ForeignKey(
        DataUsePurpose,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="opted in for purpose",
    )
    ltv_min = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, verbose_name="lifetime value at least"
    )
    ltv_max = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, verbose_name="lifetime value at most"
    )
    orders_min = models.PositiveIntegerField(null=True, blank=True, verbose_name="orders at least")
    orders_max = models.PositiveIntegerField(null=True, blank=True, verbose_name="orders at most")
    last_engagement_after = models.DateField(
        null=True, blank=True, verbose_name="last engagement on or after"
    )
    last_engagement_before = models.DateField(null=True, blank=True, verbose_name="last engagement before")
    tier = models.CharField(
        max_length=32,
        blank=True,
        verbose_name="membership tier",
        help_text="Has an active membership of this tier.",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    FILTER_FIELDS = (
        "country",
        "source_system",
        "valid_email",
        "consent_channel",
        "consent_purpose",
        "ltv_min",
        "ltv_max",
        "orders_min",
        "orders_max",
        "last_engagement_after",
        "last_engagement_before",
        "tier",
    )

    class Meta:
        ordering = ["name"]
        permissions = [("export_segment", "Can export a segment's eligible contacts (CSV)")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("consents:segment_detail", args=[self.pk])

    def clean(self) -> None:
        """The rules between fields; each error names the field to correct."""
        from django.core.exceptions import ValidationError

        self.country = self.country.strip().upper()
        self.tier = self.tier.strip()
        errors = {}
        if self.consent_channel and not self.consent_purpose_id:
            errors["consent_purpose"] = "Choose the purpose the customer opted in to on this channel."
        if self.consent_purpose_id and not self.consent_channel:
            errors["consent_channel"] = "Choose the channel the customer opted in on for this purpose."
        for low, high in (("ltv_min", "ltv_max"), ("orders_min", "orders_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                errors[low] = f"Is more than the maximum ({b}): no customer could match."
        after, before = self.last_engagement_after, self.last_engagement_before
        if after and before and after >= before:
            errors["last_engagement_after"] = (
                f"Must be earlier than “last engagement before” ({before:%Y-%m-%d}): no customer could match."
            )
        if errors:
            raise ValidationError(errors)

    def filters_in_words(self) -> list[str]:
        """The filters that are set, as short phrases for lists and page headers."""
        words = []
        if self.country:
            words.append(f"address in {self.country}")
        if self.source_system_id:
            words.append(f"from {self.source_system}")
        if self.valid_email:
            words.append(EmailFilter(self.valid_email).label.lower())
        if self.consent_channel and self.consent_purpose_id:
            channel = Channel(self.consent_channel).label
            channel = channel if channel.isupper() else channel.lower()
            words.append(f"opted in to {self.consent_purpose.name.lower()} by {channel}")
        for field_name, phrase in (
            ("ltv_min", "LTV ≥ {}"),
            ("ltv_max", "LTV ≤ {}"),
            ("orders_min", "orders ≥ {}"),
            ("orders_max", "orders ≤ {}"),
        ):
            value = getattr(self, field_name)
            if value is not None:
                whole = value == int(value)
                words.append(phrase.format(f"{value:,.0f}" if whole else f"{value:,.2f}"))
        if self.last_engagement_after:
            words.append(f"last engagement on or after {self.last_engagement_after:%Y-%m-%d}")
        if self.last_engagement_before:
            words.append(f"last engagement before {self.last_engagement_before:%Y-%m-%d}")
        if self.tier:
            words.append(f"{self.tier} member")
        return words
