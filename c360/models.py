"""API clients: one per system that talks to the API (the CRM, the web shop, …)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A system's API token. Only a SHA-256 hash of the token is stored (the token itself is
    shown once, when it is created). The token acts as its own user, ``api:<name>``, a member
    of one role group, so the API grants exactly what the UI grants that role, and every
    audit entry names the client."""

    name = models.SlugField(max_length=60, unique=True, help_text="The client system, e.g. crm-sync.")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token")
    role = models.CharField(max_length=40, help_text="The role group the token acts with.")
    key_prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


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
        ordering = ["snapshot", "purpose", "channel"]

    def __str__(self) -> str:
        return f"{self.channel}/{self.purpose_id}: {self.opt_in} in, {self.opt_out} out of {self.parties}"

    @property
    def not_seen(self) -> int:
        return max(0, self.parties - self.opt_in - self.opt_out - self.seen)


class TaskLease(models.Model):
    """A background job's task while it is queued or running (``c360.durable``): enough to
    send it again (name, arguments, queue) and to tell whether the process running it is
    alive (``owner``, ``heartbeat_at``). Deleted when the task ends; a lease whose owner died
    is taken over by ``tasks_recover`` and the task is sent again."""

    task_id = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=200, blank=True)
    owner = models.CharField(
        max_length=200, blank=True, help_text="host:pid:start of the process running it ('' while queued)."
    )
    sent_at = models.DateTimeField(help_text="When it was (last) sent, or is due after a retry.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker took it.")

    class Meta:
        ordering = ["sent_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.task_id} ({self.owner or 'queued'})"


class SettingChange(models.Model):
    """One field of one setting changed: who, when, the value before and after (as shown to
    people: a choice's label, a related row's name). Written by
    ``c360.setting_changes.setting_changes_record`` in the same transaction as the change, by
    the services that save settings (match thresholds, blocking rules, survivorship rules,
    source systems, segments); never edited."""

    setting = models.CharField(max_length=40, help_text="Which setting, e.g. matching.thresholds.")
    object_id = models.CharField(
        max_length=40, blank=True, help_text="The row changed, for settings with many (a source system)."
    )
    field = models.CharField(max_length=64)
    label = models.CharField(max_length=100, help_text="The field's name as the page shows it.")
    old = models.TextField(null=True, blank=True, help_text="None: there was no value (created).")
    new = models.TextField(null=True, blank=True, help_text="None: no value any more (deleted).")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(
        max_length=150, blank=True, help_text="The user's name when it changed (kept if the user goes)."
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["setting", "object_id", "-changed_at"], name="setting_change_lookup")]

    def __str__(self) -> str:
        return f"{self.setting} {self.object_id} {self.field}: {self.old} → {self.new}"
