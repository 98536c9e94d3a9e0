"""Celery tasks of matching: thin callers of services, taking ids."""

from celery import shared_task

from c360.kernel.durable import DurableTask


@shared_task(name="matching.train", acks_late=True)
def train_task(user_id: int | None = None) -> int:
    from django.contrib.auth import get_user_model

    from matching.services.training import matcher_train, training_queue_top_up

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    model = matcher_train(user=user)
    training_queue_top_up()  # the new model has questions of its own: have them ready
    return model.pk


@shared_task(name="matching.training_pairs_refresh", acks_late=True)
def training_pairs_refresh_task(count: int | None = None) -> int:
    from django.core.cache import cache

    from matching.services.training import (
        QUEUE_REFILL,
        REFRESH_QUEUED_KEY,
        REFRESH_QUEUED_SECONDS,
        REFRESH_RUNNING_KEY,
        training_pairs_refresh,
    )

    # a request from now on needs a refresh of its own; the page waits while this one runs
    cache.set(REFRESH_RUNNING_KEY, 1, timeout=REFRESH_QUEUED_SECONDS)
    cache.delete(REFRESH_QUEUED_KEY)
    try:
        return training_pairs_refresh(count=count or QUEUE_REFILL)
    finally:
        cache.delete(REFRESH_RUNNING_KEY)


# Job tasks are DurableTasks: sent again if their worker dies (c360.kernel.durable).


@shared_task(name="matching.match_run", bind=True, base=DurableTask, acks_late=True, max_retries=None)
def match_run_task(self, run_id: int) -> str:
    """Start a run; while another run works, wait for it (retry every 15 s)."""
    from matching.services.runs import RunBusy, match_run_execute

    try:
        return match_run_execute(run_id=run_id, resume=self.resumed).status
    except RunBusy as exc:
        raise self.retry(countdown=15, exc=exc) from exc


@shared_task(name="matching.match_chunk", bind=True, base=DurableTask, acks_late=True)
def match_chunk_task(self, chunk_id: int) -> None:
    from matching.services.runs import chunk_execute

    chunk_execute(chunk_id=chunk_id, worker=self.request.hostname or "", resume=self.resumed)


@shared_task(name="matching.match_cluster", base=DurableTask, acks_late=True)
def match_cluster_task(run_id: int) -> str:
    from matching.services.runs import cluster_execute

    return cluster_execute(run_id=run_id).status


@shared_task(name="matching.merge_bulk", base=DurableTask, acks_late=True)
def suggestions_merge_bulk_task(suggestion_ids: list[int], user_id: int | None = None) -> dict:
    """A bulk merge too large to wait for in the browser. Safe to run twice: suggestions
    already merged are refused, not merged again."""
    from django.contrib.auth import get_user_model

    from matching.services.review import suggestions_merge_bulk

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    result = suggestions_merge_bulk(suggestion_ids=suggestion_ids, user=user)
    return {"merged": result.merged, "parties": result.parties_merged, "refused": len(result.refused)}


@shared_task(name="matching.bulk_merge_job", base=DurableTask, acks_late=True)
def bulk_merge_job_task(job_id: int) -> str:
    """A steward's bulk merge (``matching.services.bulk``): resumes after the last suggestion
    it handled; a second copy of a finished job does nothing."""
    from matching.services.bulk import bulk_merge_job_run

    return bulk_merge_job_run(job_id=job_id).status


@shared_task(name="matching.quality_checks_sync")
def quality_checks_sync_task() -> int:
    """Periodic (beat): known-answer checks take their answers from the queue's decisions."""
    from matching.services.quality import quality_checks_sync

    return quality_checks_sync()
