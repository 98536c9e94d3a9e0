"""Import jobs: one uploaded source file being read into source records, with its report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    CANCELLING = "cancelling", "Cancelling"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED)


class DryRunStatus(models.TextChoices):
    """A draft's preview (dry run): the file imported in a transaction that is rolled back."""

    NONE = "", "Not previewed"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One file of one source system. Rows are committed in batches together with the
    job's cursor (the last line done), so a retried job continues where the last commit
    left off and never imports a row twice."""

    # Empty only while a draft waits for its mapping and names a source system to register
    # (``new_source``): the system is created when the import starts, not on upload, so an
    # abandoned upload leaves no source system behind.
    source_system = models.ForeignKey(
        "parties.SourceSystem",
        on_delete=models.PROTECT,
        related_name="import_jobs",
        null=True,
        blank=True,
    )
    new_source = models.JSONField(
        default=dict,
        blank=True,
        help_text="The source system to register when the import starts: name, default_region, date_order.",
    )
    kind = models.CharField(max_length=32, default="parties")
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    file_format = models.CharField(max_length=8, blank=True, help_text="csv, xlsx or jsonl")
    encoding = models.CharField(max_length=16, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Target field → list of file columns (joined)."
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.DRAFT)
    error = models.TextField(blank=True, help_text="Why the job failed as a whole.")

    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Estimated at start")
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    issues_count = models.PositiveIntegerField(default=0, help_text="Data-quality issues found")
    cursor_line = models.PositiveIntegerField(
        default=0, help_text="Last line whose batch is committed; a retry continues after it."
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    # The preview of a draft (``services.imports.dry_run``): only its report is stored; the
    # rows it imported were rolled back. Claimed like a job (conditional UPDATE, fenced by
    # ``dry_run_attempts``); ``dry_run_owner`` names the worker process, so a preview whose
    # worker died can be taken over at once.
    dry_run_status = models.CharField(
        max_length=12, choices=DryRunStatus.choices, default=DryRunStatus.NONE, blank=True
    )
    dry_run_attempts = models.PositiveIntegerField(default=0)
    dry_run_owner = models.CharField(max_length=200, blank=True)
    dry_run_heartbeat_at = models.DateTimeField(null=True, blank=True)
    dry_run_report = models.JSONField(
        default=dict, blank=True, help_text="What the last preview found: row counts, rejections, matcher."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="importjob_status_idx")]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("parties:import_detail", args=[self.pk])

    @property
    def source_name(self) -> str:
        """The source system's name, or the name of the one this draft will register."""
        if self.source_system_id:
            return self.source_system.name
        return (self.new_source or {}).get("name", "")

    def source_or_pending(self):
        """The source system, or (a draft naming a new one) an unsaved system with the
        settings it will be registered with: what reading the file's rows needs."""
        if self.source_system_id:
            return self.source_system
        from parties.models.sources import SourceSystem

        pending = self.new_source or {}
        return SourceSystem(
            name=pending.get("name", ""),
            default_region=pending.get("default_region", ""),
            date_order=pending.get("date_order", ""),
        )

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_read / self.rows_total))


class ImportRejection(models.Model):
    """A row that could not be imported at all, with its line number and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class DataQualityIssue(models.Model):
    """A value that was kept but could not be standardized (an invalid email, an unknown
    country…). It belongs to the source record; re-importing a changed row replaces them."""

    source_record = models.ForeignKey(
        "parties.SourceRecord", on_delete=models.CASCADE, related_name="quality_issues"
    )
    job = models.ForeignKey(
        ImportJob,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quality_issues",
        db_constraint=False,
        db_index=False,  # bulk-written; the (job, line) index serves lookups
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    field = models.CharField(max_length=64)
    value = models.TextField(blank=True)
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_record", "field"]
        indexes = [
            models.Index(fields=["field"], name="dq_issue_field_idx"),
            models.Index(fields=["job", "line"], name="dq_issue_job_line_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"
