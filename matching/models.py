"""Matching: training labels and learned models (suggestions and runs come with the queue)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Label(models.TextChoices):
    MATCH = "match", "Same customer"
    DISTINCT = "distinct", "Different customers"
    UNSURE = "unsure", "Unsure"


class LabelOrigin(models.TextChoices):
    TRAINING = "training", "Training page"
    QUEUE = "queue", "Merge-queue decision"
    FILE = "file", "Imported list"


class TrainingLabel(models.Model):
    """A person's judgement that two source records are (not) the same customer. Stored per
    source-record pair so that it survives merges, restarts and several stewards."""

    record_a = models.ForeignKey("parties.SourceRecord", on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey("parties.SourceRecord", on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=8, choices=Label.choices)
    origin = models.CharField(max_length=8, choices=LabelOrigin.choices, default=LabelOrigin.TRAINING)
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    labelled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-labelled_at"]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="traininglabel_unique_pair"),
            models.CheckConstraint(condition=models.Q(record_a__lt=models.F("record_b")),
                                   name="traininglabel_ordered_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id}~{self.record_b_id}: {self.label}"


class MatcherModel(models.Model):
    """A trained dedupe model. Versions are kept so that an administrator can roll back."""

    settings_blob = models.BinaryField(help_text="dedupe settings written by this product only")
    labels_match = models.PositiveIntegerField()
    labels_distinct = models.PositiveIntegerField()
    training_seconds = models.FloatField()
    trained_at = models.DateTimeField(auto_now_add=True)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="matchermodel_one_active"),
        ]

    def __str__(self) -> str:
        return f"Model v{self.pk} ({self.labels_match}+{self.labels_distinct} labels)"


class TrainingPair(models.Model):
    """A pair the active learner wants a person to judge, queued for the training page.
    The learner runs in a worker (it needs seconds and memory) and fills this queue; the page
    only reads it, so a labelling session survives restarts and serves several stewards."""

    record_a = models.ForeignKey("parties.SourceRecord", on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey("parties.SourceRecord", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="trainingpair_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.record_a_id}?{self.record_b_id}"
