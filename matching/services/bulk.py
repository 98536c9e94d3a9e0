"""Bulk merges as jobs: a worker merges the suggestions one at a time while the steward watches
their progress (270 suggestions took 36 s inside one request, with nothing shown meanwhile).

Each suggestion's merge and the job's counters commit together, so ``done`` is exact: the page
shows it live, and a job resumed after its worker died (``c360.kernel.durable``) continues after the
last suggestion it handled. Running the job twice merges nothing twice: a second copy finds
the job finished, and a suggestion someone merged meanwhile is refused by ``suggestion_merge``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from matching.models import BulkJobStatus, BulkMergeJob, MatchSuggestion, SuggestionStatus
from matching.services.review import SuggestionStale, suggestion_merge
from parties.services.merge import MergeRefused

logger = logging.getLogger(__name__)

REFUSALS_KEPT = 500  # the reasons listed on the page; the count covers them all


@dataclass(frozen=True)
class BulkMergeScope:
    """The suggestions a bulk merge takes, and what the confirmation and the job call them."""

    suggestion_ids: list[int]
    text: str

    @property
    def fingerprint(self) -> str:
        """Which suggestions these are, in a few characters: the confirmation page carries it,
        so that "every suggestion above 0.95" merges the ones the steward was shown, not the
        ones a match run added in between (the view asks again when it differs)."""
        import hashlib

        return hashlib.sha256(",".join(map(str, sorted(self.suggestion_ids))).encode()).hexdigest()[:16]


def bulk_merge_scope(
    *, suggestion_ids: Sequence[int] | None = None, score_at_least: float | None = None
) -> BulkMergeScope:
    """The suggestions to merge: the ones chosen (``suggestion_ids``), or every pending one
    scoring ``score_at_least`` or more, best first. The score floor must be a number from 0
    to 1 (a ValidationError names ``score_at_least`` otherwise). The list may be empty; the
    caller says so before asking to merge nothing."""
    if (suggestion_ids is None) == (score_at_least is None):
        raise ValueError("give either suggestion_ids or score_at_least")
    if score_at_least is None:
        return BulkMergeScope(list(suggestion_ids or []), "the selected suggestions")
    if not 0 <= score_at_least <= 1:  # NaN too
        raise ValidationError({"score_at_least": f"{score_at_least} is not between 0 and 1"})
    ids = list(
        MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING, score__gte=score_at_least)
        .order_by("-score", "id")
        .values_list("pk", flat=True)
    )
    return BulkMergeScope(ids, f"every pending suggestion scoring {score_at_least:.2f} or more")


def bulk_merge_job_create(*, suggestion_ids: Sequence[int], user=None, scope: str = "") -> BulkMergeJob:
    """Record a bulk merge of ``suggestion_ids`` (in that order) and send it to a worker when the
    transaction commits."""
    ids = list(dict.fromkeys(int(pk) for pk in suggestion_ids))  # each once, order kept
    if not ids:
        raise ValueError("nothing to merge: no suggestion was chosen")
    job = BulkMergeJob.objects.create(suggestion_ids=ids, total=len(ids), scope=scope[:200], created_by=user)
    from matching.tasks import bulk_merge_job_task

    transaction.on_commit(lambda: bulk_merge_job_task.delay(job.pk))
    return job


def _handle_one(job_id: int, position: int, suggestion_id: int, user) -> bool:
    """Merge one suggestion and count it, in one transaction. False: another copy of the job
    handled this position already (nothing done). Durable: the merge (``suggestion_merge``,
    which a bulk job runs inside this transaction and so is not durable itself) and the job's
    count commit together, never inside a caller's transaction."""
    with transaction.atomic(durable=True):
        job = BulkMergeJob.objects.select_for_update().get(pk=job_id)
        if job.done != position or job.status != BulkJobStatus.RUNNING:
            return False
        counters: dict = {"done": F("done") + 1}
        try:
            result = suggestion_merge(suggestion_id=suggestion_id, user=user)
        except (MergeRefused, SuggestionStale) as exc:
            refusal = f"#{suggestion_id}: {exc}"
        except MatchSuggestion.DoesNotExist:
            refusal = f"#{suggestion_id}: no such suggestion"
        else:
            refusal = ""
            counters.update(
                merged=F("merged") + 1, parties_merged=F("parties_merged") + len(result.merged_ids)
            )
        if refusal:
            counters["refused"] = [*job.refused, refusal][:REFUSALS_KEPT]
        BulkMergeJob.objects.filter(pk=job_id).update(**counters)
    return True


def bulk_merge_job_run(*, job_id: int) -> BulkMergeJob:
    """Run (or continue) a bulk merge job: each suggestion from the cursor on is merged and
    counted in its own transaction; one refusal does not stop the rest. A finished job is
    left as it is."""
    now = timezone.now()
    BulkMergeJob.objects.filter(pk=job_id, status=BulkJobStatus.QUEUED).update(
        status=BulkJobStatus.RUNNING, started_at=now
    )
    job = BulkMergeJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != BulkJobStatus.RUNNING:
        return job  # done already: a second copy of the task does nothing
    try:
        for position in range(job.done, len(job.suggestion_ids)):
            if not _handle_one(job.pk, position, job.suggestion_ids[position], job.created_by):
                logger.info("bulk merge #%s: position %s was handled by another copy", job.pk, position)
                return BulkMergeJob.objects.get(pk=job.pk)
    except Exception as exc:
        BulkMergeJob.objects.filter(pk=job.pk, status=BulkJobStatus.RUNNING).update(
            status=BulkJobStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{exc.__class__.__name__}: {exc}. The suggestions counted as done are merged "
            "or refused; the rest are still pending in the queue.",
        )
        raise
    BulkMergeJob.objects.filter(pk=job.pk, status=BulkJobStatus.RUNNING).update(
        status=BulkJobStatus.SUCCEEDED, finished_at=timezone.now()
    )
    return BulkMergeJob.objects.get(pk=job.pk)


@dataclass(frozen=True)
class BulkProgress:
    percent: int
    per_second: float | None
    eta_seconds: float | None


def bulk_merge_progress(job: BulkMergeJob) -> BulkProgress:
    """Percent done, suggestions per second and the seconds left, for the job's page."""
    if not job.started_at or not job.done:
        return BulkProgress(job.percent, None, None)
    end = job.finished_at or timezone.now()
    rate = job.done / max((end - job.started_at).total_seconds(), 0.001)
    eta = None if job.is_finished else (job.total - job.done) / rate
    return BulkProgress(job.percent, rate, eta)
