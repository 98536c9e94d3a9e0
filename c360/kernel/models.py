"""The kernel's tables: background jobs' task leases and the history of settings changes.
They belong to the ``c360`` app (its migrations); nothing here imports an app."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TaskLease(models.Model):
    """A background job's task while it is queued or running (``c360.kernel.durable``): enough to
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
    ``c360.kernel.setting_changes.setting_changes_record`` in the same transaction as the change, by
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
