"""Matching: training labels and learned models (suggestions and runs come with the queue)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from matching.digests import values_digest


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
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labelled_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-labelled_at"]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="traininglabel_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(record_a__lt=models.F("record_b")), name="traininglabel_ordered_pair"
            ),
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
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=False)
    notes = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "What training says about its labels: [{code, text}] (matching.services.training."
            "label_notes), shown on the training page."
        ),
    )
    phase_seconds = models.JSONField(default=dict, blank=True, help_text="Seconds of each phase of training.")

    class Meta:
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="matchermodel_one_active"
            ),
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
    # indexed by blockkey_party_idx below (which a full rebuild drops and recreates)
    party = models.ForeignKey(
        "parties.Party", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["block_key", "party"], name="blockkey_key_party_idx"),
            models.Index(fields=["party"], name="blockkey_party_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.block_key}: {self.party_id}"


class MatchRecord(models.Model):
    """A party flattened for dedupe (``matching.fields``), written when the party is
    fingerprinted, so that scoring chunks read each record with one indexed lookup."""

    party = models.OneToOneField(
        "parties.Party", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    record = models.TextField(help_text="The flat record as JSON.")

    def __str__(self) -> str:
        return f"record of party {self.party_id}"


class OversizedBlock(models.Model):
    """A block key shared by more parties than ``C360_MATCHING_MAX_BLOCK``: it is left out of
    candidate pairs (a birth date or a "GmbH & Co. KG" shared by thousands would otherwise
    make millions of pairs that other block keys already cover)."""

    block_key = models.CharField(max_length=255, primary_key=True)
    parties = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.block_key} ({self.parties} parties)"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunPhase(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    FINGERPRINTING = "fingerprinting", "Fingerprinting parties into block keys"
    SCORING = "scoring", "Scoring candidate pairs"
    CLUSTERING = "clustering", "Clustering and saving suggestions"
    DONE = "done", "Done"


class MatchRun(models.Model):
    """One matching pass over the parties, with its counters for the progress page.

    Phases: fingerprinting (one task), scoring (independent chunk tasks that any number of
    workers share), clustering (one task, started by whichever chunk finishes last)."""

    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    phase = models.CharField(max_length=16, choices=RunPhase.choices, default=RunPhase.QUEUED)
    phase_seconds = models.JSONField(default=dict, blank=True, help_text="Wall-clock seconds per phase.")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    threshold_curve = models.JSONField(
        default=list,
        blank=True,
        help_text="For thresholds from 0.2 to 0.95: the pairs and groups of parties at or above.",
    )
    full = models.BooleanField(default=True)
    party_ids = models.JSONField(
        default=list, blank=True, help_text="An incremental run's new and changed parties."
    )
    model = models.ForeignKey(MatcherModel, null=True, on_delete=models.SET_NULL, related_name="+")
    threshold = models.FloatField(default=0.5)
    parties_total = models.PositiveIntegerField(default=0)
    parties_blocked = models.PositiveIntegerField(default=0)
    block_keys = models.PositiveIntegerField(default=0)
    oversized_blocks = models.PositiveIntegerField(default=0)
    rules = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per blocking rule (standard and learned), measured on every party's block keys "
        "when fingerprinting ends: keys, blocks, candidate pairs, blocks left out, "
        "labelled matches covered (matching.services.blocking.blocking_rules_measure).",
    )
    candidate_pairs = models.PositiveIntegerField(default=0)
    pair_budget = models.PositiveIntegerField(
        default=0, help_text="Candidate pairs per party the run could score (0: no limit)."
    )
    pairs_scored = models.PositiveIntegerField(default=0)
    chunks_over_budget = models.PositiveIntegerField(default=0)
    partner_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="The fewest partners per party a chunk over the pair budget kept."
    )
    pairs_kept = models.PositiveIntegerField(default=0)
    clusters = models.PositiveIntegerField(default=0)
    auto_merged = models.PositiveIntegerField(default=0, help_text="Suggestions merged automatically.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Match run #{self.pk}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class MatchRunChunk(models.Model):
    """A slice of a run's work for one worker: in the fingerprinting phase, the parties of
    ids [first_party, last_party]; in the scoring phase, the candidate pairs whose first party
    lies there (in an incremental run: the pairs that touch the run's parties in that range)."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="chunks")
    phase = models.CharField(max_length=16, choices=RunPhase.choices)
    index = models.PositiveIntegerField()
    first_party = models.BigIntegerField()
    last_party = models.BigIntegerField()
    parties = models.PositiveIntegerField(default=0)
    keys = models.PositiveIntegerField(default=0)
    candidate_pairs = models.PositiveIntegerField(default=0)
    pairs_scored = models.PositiveIntegerField(default=0)
    partner_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Over the pair budget: the partners each party kept."
    )
    pairs_kept = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "phase", "index"], name="runchunk_unique")]

    def __str__(self) -> str:
        return f"{self.run} chunk {self.index}"


class ScoredPair(models.Model):
    """A candidate pair that scored above the drop line, waiting for the run's clustering."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    chunk = models.PositiveIntegerField()
    party_a = models.BigIntegerField()
    party_b = models.BigIntegerField()
    score = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["run", "chunk"], name="scoredpair_run_chunk_idx")]

    def __str__(self) -> str:
        return f"{self.party_a}~{self.party_b}: {self.score:.2f}"


class Decision(models.TextChoices):
    REJECTED = "rejected", "Not a match"
    MERGED = "merged", "Merged"


class PairDecision(models.Model):
    """A steward's decision about two parties. An active rejection keeps the pair out of
    every later run; it lapses when either party's data changes."""

    party_a = models.ForeignKey("parties.Party", on_delete=models.CASCADE, related_name="+")
    party_b = models.ForeignKey("parties.Party", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    suggestion = models.ForeignKey(
        "MatchSuggestion", null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(party_a__lt=models.F("party_b")), name="pairdecision_ordered_pair"
            )
        ]
        indexes = [
            models.Index(
                fields=["party_a", "party_b"],
                name="pairdecision_pair_idx",
                condition=models.Q(is_active=True),
            ),
            models.Index(fields=["party_b"], name="pairdecision_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.party_a_id}/{self.party_b_id}: {self.decision}"


class MatchSettings(models.Model):
    """Thresholds set by administrators (one row)."""

    review_threshold = models.FloatField(
        default=0.5, help_text="Below this cluster score, no suggestion is made."
    )
    auto_merge_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="At or above this score a suggestion is merged automatically; empty: never.",
    )
    rules_off = models.JSONField(
        default=list,
        blank=True,
        help_text="Codes of the standard blocking rules switched off (matching.rules).",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "match settings"

    def __str__(self) -> str:
        return f"review ≥ {self.review_threshold}, auto-merge ≥ {self.auto_merge_threshold or '—'}"

    @classmethod
    def current(cls) -> MatchSettings:
        return cls.objects.order_by("pk").first() or cls.objects.create()

    def rules_enabled(self) -> list[str]:
        """Codes of the standard blocking rules in use."""
        from matching.rules import STANDARD_RULES

        return [rule.code for rule in STANDARD_RULES if rule.code not in set(self.rules_off or [])]


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    MERGED = "merged", "Merged"
    REJECTED = "rejected", "Not a match"
    SUPERSEDED = "superseded", "Superseded by a newer run"
    CLOSED = "closed", "Closed"
    SPLIT = "split", "Split into groups"  # each group merged, pairs across groups not a match
    UNMERGED = "unmerged", "Merged, then undone"  # its merge was unmerged since


class MatchSuggestion(models.Model):
    """A cluster of parties the matcher believes are one customer, waiting for a steward."""

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="suggestions")
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    score = models.FloatField(help_text="The cluster's score: the lowest of its members'.")
    evidence = models.JSONField(
        default=dict, help_text="Per field: each member's value and whether they agree."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the queue filters and orders by, written with the suggestion (see review.facets).
    size = models.PositiveSmallIntegerField(default=2)
    kind = models.CharField(max_length=16, blank=True, help_text="individual, organization or mixed")
    countries = models.CharField(max_length=100, blank=True, help_text="',DE,AT,'")
    sources = models.CharField(max_length=200, blank=True, help_text="Source system ids: ',1,4,'")
    search_text = models.TextField(blank=True, help_text="Names, emails and phone digits.")
    risk = models.PositiveSmallIntegerField(default=0, help_text="Higher: review first.")
    risk_reasons = models.JSONField(default=list, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A run's test of "unchanged" without reading the evidence back (matching.digests).
    values_digest = models.CharField(max_length=32, blank=True, editable=False)
    content_digest = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-score", "id"]
        # The queue's orders, each ending in id: pages are found by an index-only scan.
        indexes = [
            models.Index(fields=["status", "-score", "id"], name="suggestion_status_score_idx"),
            models.Index(fields=["status", "-risk", "-score", "id"], name="suggestion_status_risk_idx"),
            models.Index(fields=["status", "decided_at"], name="suggestion_decided_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="suggestion_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Suggestion #{self.pk} ({self.score:.2f})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Evidence written here (a re-score, a member leaving, a suggestion made on entry)
        keeps ``values_digest`` true to it and empties ``content_digest``: the next run
        rewrites what it finds instead of trusting a digest of something else."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "evidence" in update_fields:
            self.values_digest, self.content_digest = values_digest(self.evidence), ""
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "values_digest", "content_digest"}
        super().save(*args, **kwargs)


class MatchSuggestionMember(models.Model):
    suggestion = models.ForeignKey(MatchSuggestion, on_delete=models.CASCADE, related_name="members")
    party = models.ForeignKey("parties.Party", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()

    class Meta:
        ordering = ["suggestion", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "party"], name="suggestionmember_unique")
        ]
        indexes = [models.Index(fields=["party"], name="suggestionmember_party_idx")]

    def __str__(self) -> str:
        return f"{self.suggestion_id}: {self.party_id}"


class BulkJobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"


class BulkMergeJob(models.Model):
    """A steward's bulk merge, run by a worker one suggestion at a time. Each suggestion's
    merge commits with this row's counters (``done`` is the cursor into ``suggestion_ids``), so
    the page shows live progress and a job resumed after its worker died continues after the
    last suggestion it merged."""

    status = models.CharField(max_length=10, choices=BulkJobStatus.choices, default=BulkJobStatus.QUEUED)
    scope = models.CharField(max_length=200, blank=True, help_text="What the steward chose to merge.")
    suggestion_ids = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Suggestions handled (merged or refused).")
    merged = models.PositiveIntegerField(default=0)
    parties_merged = models.PositiveIntegerField(default=0)
    refused = models.JSONField(
        default=list, blank=True, help_text="Why each refused suggestion was not merged."
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Bulk merge #{self.pk} ({self.done}/{self.total})"

    @property
    def is_finished(self) -> bool:
        return self.status in (BulkJobStatus.SUCCEEDED, BulkJobStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.is_finished and not self.total else int(100 * self.done / max(self.total, 1))

    @property
    def skipped(self) -> int:
        """Suggestions handled but not merged (``refused`` keeps the first reasons only)."""
        return self.done - self.merged


class CheckKind(models.TextChoices):
    KNOWN_ANSWER = "known", "Known-answer pair"
    SECOND_REVIEW = "second", "Blind second review"


class QualityCheck(models.Model):
    """One check of a steward's decisions (``matching.services.quality``).

    A known-answer check is a suggestion an administrator seeded into the queue for a pair whose
    answer is known (the truth file, or a past decision): it looks like any other suggestion;
    ``expected`` is the known answer and ``answer`` what the steward decided. A second review
    asks another steward, blind (the first decision is not shown), about a decided suggestion;
    ``expected`` is the first decision, ``subject`` who made it."""

    kind = models.CharField(max_length=8, choices=CheckKind.choices)
    origin = models.CharField(
        max_length=10, blank=True, help_text="truth, decisions (known answers) or sample (second reviews)"
    )
    suggestion = models.ForeignKey(MatchSuggestion, on_delete=models.CASCADE, related_name="checks")
    expected = models.CharField(max_length=8, choices=Label.choices)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The steward whose decision is checked.",
    )
    answer = models.CharField(max_length=8, choices=Label.choices, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    void = models.BooleanField(default=False, help_text="Closed without a steward's answer.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "suggestion"], name="qualitycheck_unique")]
        indexes = [models.Index(fields=["kind", "answered_at"], name="qualitycheck_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on suggestion #{self.suggestion_id}"

    @property
    def agreed(self) -> bool | None:
        return None if not self.answer else self.answer == self.expected
