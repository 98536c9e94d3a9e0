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


class BlockKey(models.Model):
    """A dedupe fingerprint of a party. Parties sharing a key are compared; the table lets
    the database produce candidate pairs with a join instead of holding them in memory."""

    block_key = models.CharField(max_length=255)
    party = models.ForeignKey("parties.Party", on_delete=models.CASCADE, related_name="+",
                              db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["block_key", "party"], name="blockkey_key_party_idx"),
                   models.Index(fields=["party"], name="blockkey_party_idx")]

    def __str__(self) -> str:
        return f"{self.block_key}: {self.party_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class MatchRun(models.Model):
    """One matching pass over the parties, with its counters for the progress page."""

    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    full = models.BooleanField(default=True)
    party_ids = models.JSONField(default=list, blank=True,
                                 help_text="An incremental run's new and changed parties.")
    model = models.ForeignKey(MatcherModel, null=True, on_delete=models.SET_NULL, related_name="+")
    threshold = models.FloatField(default=0.5)
    parties_blocked = models.PositiveIntegerField(default=0)
    block_keys = models.PositiveIntegerField(default=0)
    candidate_pairs = models.PositiveIntegerField(default=0)
    pairs_kept = models.PositiveIntegerField(default=0)
    clusters = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Match run #{self.pk}"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    MERGED = "merged", "Merged"
    REJECTED = "rejected", "Not a match"
    SUPERSEDED = "superseded", "Superseded by a newer run"
    CLOSED = "closed", "Closed"


class MatchSuggestion(models.Model):
    """A cluster of parties the matcher believes are one customer, waiting for a steward."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="suggestions")
    status = models.CharField(max_length=10, choices=SuggestionStatus.choices,
                              default=SuggestionStatus.PENDING)
    score = models.FloatField(help_text="The cluster's score: the lowest of its members'.")
    evidence = models.JSONField(default=dict, help_text="Per field: each member's value and "
                                                        "whether they agree.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["status", "-score"], name="suggestion_status_score_idx")]

    def __str__(self) -> str:
        return f"Suggestion #{self.pk} ({self.score:.2f})"


class MatchSuggestionMember(models.Model):
    suggestion = models.ForeignKey(MatchSuggestion, on_delete=models.CASCADE, related_name="members")
    party = models.ForeignKey("parties.Party", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["suggestion", "-score"]
        constraints = [models.UniqueConstraint(fields=["suggestion", "party"],
                                               name="suggestionmember_unique")]
        indexes = [models.Index(fields=["party"], name="suggestionmember_party_idx")]

    def __str__(self) -> str:
        return f"{self.suggestion_id}: {self.party_id}"
