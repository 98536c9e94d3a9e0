"""The data-quality dashboard's aggregated figures (tables kept from when they were part of
the ``c360`` app: ``c360_dashboardsnapshot``, …)."""

from __future__ import annotations

from django.db import models


class DashboardSnapshot(models.Model):
    """The data-quality dashboard's aggregated figures at one moment: the figures that would
    need full scans of every party and contact point to compute live. Written whole by
    ``c360.dashboard.services.dashboard_refresh`` (a Celery beat task); only the latest is kept."""

    started_at = models.DateTimeField()
    computed_at = models.DateTimeField(help_text="When the figures were complete: 'as of'.")
    duration_ms = models.PositiveIntegerField(default=0)
    parties_active = models.PositiveBigIntegerField(default=0)
    parties_merged = models.PositiveBigIntegerField(default=0)
    individuals_active = models.PositiveBigIntegerField(default=0)
    source_records = models.PositiveBigIntegerField(default=0)
    quality_issues = models.PositiveBigIntegerField(default=0)
    invalid_emails = models.PositiveBigIntegerField(default=0, help_text="Active, invalid.")
    invalid_phones = models.PositiveBigIntegerField(default=0, help_text="Active, invalid.")
    unreachable_parties = models.PositiveBigIntegerField(
        default=0, help_text="Active parties with no active email, phone or address."
    )

    class Meta:
        db_table = "c360_dashboardsnapshot"
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        permissions = [("refresh_dashboardsnapshot", "Can refresh the dashboard's figures now")]

    def __str__(self) -> str:
        return f"Dashboard figures as of {self.computed_at:%Y-%m-%d %H:%M}"


class SourceFigure(models.Model):
    """Per source system: its records and the (active) parties they belong to."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="sources")
    source_system = models.ForeignKey("parties.SourceSystem", on_delete=models.CASCADE, related_name="+")
    records = models.PositiveBigIntegerField(default=0)
    parties = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "c360_sourcefigure"
        ordering = ["snapshot", "source_system"]

    def __str__(self) -> str:
        return f"source {self.source_system_id}: {self.records} records, {self.parties} parties"


class AttributeFigure(models.Model):
    """Completeness and validity of one attribute, over all active parties (no source
    system) or over one source system's records (what that source delivered)."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="attributes")
    source_system = models.ForeignKey(
        "parties.SourceSystem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    attribute = models.CharField(max_length=16, help_text="email, phone, address or birth_date")
    population = models.PositiveBigIntegerField(default=0, help_text="Parties or records counted.")
    complete = models.PositiveBigIntegerField(default=0, help_text="With a value at all.")
    valid = models.PositiveBigIntegerField(default=0, help_text="With a valid, complete value.")

    class Meta:
        db_table = "c360_attributefigure"
        ordering = ["snapshot", "source_system", "attribute"]

    def __str__(self) -> str:
        return f"{self.attribute} ({self.source_system_id or 'all'}): {self.valid}/{self.population} valid"


class QualityIssueFigure(models.Model):
    """Data-quality issues of one field and one kind of reason (the reason without the
    offending value, e.g. "unknown country")."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="issues")
    field = models.CharField(max_length=64)
    reason = models.CharField(max_length=200)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "c360_qualityissuefigure"
        ordering = ["snapshot", "-count", "field", "reason"]

    def __str__(self) -> str:
        return f"{self.field}: {self.reason} ({self.count})"


class ConsentFigure(models.Model):
    """Consent coverage of one channel and purpose over active, not erased parties: how many
    have a consent in effect that says opted in, opted out or seen (the rest: not seen)."""

    snapshot = models.ForeignKey(DashboardSnapshot, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=10)
    purpose = models.ForeignKey("consents.DataUsePurpose", on_delete=models.CASCADE, related_name="+")
    parties = models.PositiveBigIntegerField(default=0)
    opt_in = models.PositiveBigIntegerField(default=0)
    opt_out = models.PositiveBigIntegerField(default=0)
    seen = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "c360_consentfigure"
        ordering = ["snapshot", "purpose", "channel"]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose_id}: {self.opt_in} in, {self.opt_out} out of {self.parties}"

    @property
    def not_seen(self) -> int:
        return max(0, self.parties - self.opt_in - self.opt_out - self.seen)
