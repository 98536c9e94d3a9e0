"""Match runs: fingerprint parties into the block-key table, score the candidate pairs the
database joins out of it, cluster, and save the clusters as suggestions.

A run goes through three phases. Fingerprinting and scoring are split into chunks of
parties (``MatchRunChunk``), each an independent Celery task, so every worker on every
machine takes a share; whichever chunk finishes a phase last starts the next one, and the
last scoring chunk queues the clustering task. Chunks are idempotent (a redelivered chunk
replaces its own rows), so a worker that dies only costs its chunk. ``inline=True`` does
the same work in the calling process (``rematch --sync``, tests).

Only one run works at a time: a full rebuild empties the block-key table that an
incremental run reads. A run that finds another one running waits (its task retries);
a run whose heartbeat stopped for ``STALE_AFTER`` is marked failed.

Memory grows with the pairs kept for clustering, not with the candidate pairs: scores of
0.2 or less are dropped before clustering (they only chain unrelated records together).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from c360.kernel.perf import fewer_gc_passes
from matching.models import (
    BlockKey,
    MatcherModel,
    MatchRun,
    MatchRunChunk,
    MatchSettings,
    RunPhase,
    RunStatus,
    ScoredPair,
)
from matching.services.blocking import (
    block_keys_clear,
    block_keys_write,
    blocking_rules_measure,
    blocks_prepare,
    matcher_load,
    party_id_batches,
)
from matching.services.review import suggestions_auto_merge
from matching.services.scoring import chunk_score, scored_pairs
from matching.services.suggestions import clusters_of, suggestions_save, threshold_curve
from parties.models import Party

logger = logging.getLogger(__name__)

CHUNK_PARTIES = settings.C360_MATCHING_CHUNK_PARTIES
INCREMENTAL_MAX = 20_000  # more changed parties than this: a full run is cheaper
INCREMENTAL_CHUNK = 5_000  # changed parties per chunk of an incremental run
STALE_AFTER = timedelta(minutes=15)
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class NoModel(RuntimeError):
    pass


class RunBusy(RuntimeError):
    """Another run is working; try again later."""


class FullRunUnderway(RuntimeError):
    """A full run is queued or running already: a second one would only redo its work."""


_matchers: dict[tuple, object] = {}


def _matcher(model_id: int | None):
    """The model's matcher, loaded once per worker process (chunks of a run share it)."""
    if model_id is None:  # the run's model was deleted (SET_NULL)
        raise MatcherModel.DoesNotExist("the run's matcher model no longer exists")
    model = MatcherModel.objects.get(pk=model_id)
    key = (model.pk, model.trained_at)
    if key not in _matchers:
        _matchers.clear()
        _matchers[key] = matcher_load(model)
    return _matchers[key]


def _phase_seconds(run: MatchRun, now: datetime) -> float:
    """How long the run's current phase took until ``now`` (a running run's phase has a start)."""
    if run.phase_started_at is None:
        raise ValueError(f"run {run.pk} is running a phase without its start")
    return round((now - run.phase_started_at).total_seconds(), 2)


def _fail(run_id: int, error: str) -> None:
    MatchRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def _claim(run_id: int) -> MatchRun | None:
    """Take the one-run-at-a-time lock for ``run_id``. None when the run is not queued
    any more (finished, failed, or already started by a redelivered task)."""
    with transaction.atomic():
        running = list(
            MatchRun.objects.select_for_update()
            .filter(Q(status=RunStatus.RUNNING) | Q(pk=run_id))
            .order_by("pk")
        )
        run = next((r for r in running if r.pk == run_id), None)
        if run is None or run.status != RunStatus.QUEUED:
            return None
        now = timezone.now()
        for other in running:
            if other.pk == run_id:
                continue
            if other.heartbeat_at and now - other.heartbeat_at > STALE_AFTER:
                MatchRun.objects.filter(pk=other.pk).update(
                    status=RunStatus.FAILED,
                    finished_at=now,
                    error=f"no progress for {STALE_AFTER}: its worker was lost",
                )
            else:
                raise RunBusy(f"{other} is still running")
        model = MatcherModel.objects.filter(is_active=True).first()
        MatchRun.objects.filter(pk=run_id).update(
            status=RunStatus.RUNNING,
            phase=RunPhase.FINGERPRINTING,
            started_at=now,
            phase_started_at=now,
            heartbeat_at=now,
            model=model,
            pair_budget=settings.C360_MATCHING_PAIR_BUDGET,
        )
    if model is None:
        _fail(run_id, "no trained model yet: train the matcher first")
        return None
    return MatchRun.objects.get(pk=run_id)


def _ranges(run: MatchRun) -> list[tuple[int, int]]:
    """The chunks' party-id ranges: ``CHUNK_PARTIES`` active parties (full run) or changed
    parties (incremental run) each."""
    if run.full:
        batches = party_id_batches(batch=CHUNK_PARTIES)
    else:
        ids, size = sorted(set(run.party_ids)), min(CHUNK_PARTIES, INCREMENTAL_CHUNK)
        batches = (ids[i : i + size] for i in range(0, len(ids), size))
    return [(batch[0], batch[-1]) for batch in batches if batch]


def _chunks_plan(run: MatchRun, phase: str) -> list[MatchRunChunk]:
    ranges = _ranges(run)
    MatchRunChunk.objects.filter(run=run, phase=phase).delete()
    return MatchRunChunk.objects.bulk_create(
        [
            MatchRunChunk(run=run, phase=phase, index=i, first_party=lo, last_party=hi)
            for i, (lo, hi) in enumerate(ranges)
        ]
    )


def _dispatch(run_id: int, chunks: list[MatchRunChunk], inline: bool) -> None:
    from matching.tasks import match_chunk_task

    MatchRun.objects.filter(pk=run_id).update(chunks_total=len(chunks), chunks_done=0)
    if inline:
        for chunk in chunks:
            chunk_execute(chunk_id=chunk.pk, inline=True)
        return
    for chunk in chunks:
        transaction.on_commit(partial(match_chunk_task.delay, chunk.pk))


def _dispatch_unstarted(run_id: int) -> None:
    """Resume a run whose worker died while handing out work (``c360.kernel.durable``): send again
    the tasks of its current phase that no worker has started (a chunk is taken with a
    conditional UPDATE, so a chunk sent twice still runs once), or the clustering task."""
    from matching.tasks import match_chunk_task, match_cluster_task

    run = MatchRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return
    if run.phase == RunPhase.CLUSTERING:
        match_cluster_task.delay(run_id)
        return
    for pk in MatchRunChunk.objects.filter(
        run=run, phase=run.phase, done_at__isnull=True, worker=""
    ).values_list("pk", flat=True):
        match_chunk_task.delay(pk)


def match_run_execute(*, run_id: int, inline: bool = False, resume: bool = False) -> MatchRun:
    """Start a queued run: claim the lock, plan the fingerprinting chunks and hand them out
    (or, ``inline``, do the whole run here). Raises ``RunBusy`` while another run works.
    ``resume``: this start's previous worker died (``c360.kernel.durable``); what it left undone
    (planning the chunks, handing them out) is done now."""
    run = _claim(run_id)
    if run is None and resume and not inline:
        if MatchRunChunk.objects.filter(run_id=run_id, phase=RunPhase.FINGERPRINTING).exists():
            _dispatch_unstarted(run_id)
        else:  # it died before planning the chunks: start it again, once (conditional UPDATE)
            stamp = MatchRun.objects.filter(pk=run_id).values_list("heartbeat_at", flat=True).first()
            if MatchRun.objects.filter(
                pk=run_id, status=RunStatus.RUNNING, phase=RunPhase.FINGERPRINTING, heartbeat_at=stamp
            ).update(heartbeat_at=timezone.now()):
                run = MatchRun.objects.get(pk=run_id)
    if run is None:
        return MatchRun.objects.get(pk=run_id)
    try:
        if run.full:
            block_keys_clear()
        run.parties_total = Party.objects.active().count() if run.full else len(set(run.party_ids))
        run.save(update_fields=["parties_total"])
        chunks = _chunks_plan(run, RunPhase.FINGERPRINTING)
        if not chunks:
            _phase_advance(run.pk, RunPhase.FINGERPRINTING, inline)
        else:
            _dispatch(run.pk, chunks, inline)
    except Exception as exc:
        logger.exception("match run #%s failed", run_id)
        _fail(run_id, str(exc))
        raise
    return MatchRun.objects.get(pk=run_id)


def _changed(run: MatchRun) -> list[int] | None:
    return None if run.full else sorted(set(run.party_ids))


def chunk_execute(
    *, chunk_id: int, inline: bool = False, worker: str = "", resume: bool = False
) -> MatchRunChunk | None:
    """Do one chunk of a running run; the last chunk of a phase starts the next phase.
    ``resume``: the chunk's previous worker died (``c360.kernel.durable``), maybe after finishing it
    and before handing out the next phase's work; that is done now."""
    chunk = MatchRunChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None or chunk.run.status != RunStatus.RUNNING:
        return chunk  # cancelled or failed
    if chunk.done_at is not None:
        # a chunk sent again after its worker died: it may have died before moving the run on
        if resume and not inline:
            _phase_advance(chunk.run_id, chunk.phase, inline)
            _dispatch_unstarted(chunk.run_id)
        return chunk
    run = chunk.run
    started = time.monotonic()
    # A chunk that was started before (its worker died) cannot assume empty tables.
    retried = bool(chunk.worker)
    me = (worker or f"{socket.gethostname()} (in process)")[:200]
    if not MatchRunChunk.objects.filter(pk=chunk.pk, done_at__isnull=True, worker=chunk.worker).update(
        worker=me
    ):
        return chunk  # the same chunk sent twice: another worker took it
    chunk.worker = me
    try:
        with fewer_gc_passes():  # a third of a scoring chunk's time went to the collector
            matcher = _matcher(run.model_id)
            changed = _changed(run)
            if chunk.phase == RunPhase.FINGERPRINTING:
                if changed is None:
                    ids = [
                        pid
                        for batch in party_id_batches(chunk.first_party, chunk.last_party)
                        for pid in batch
                    ]
                else:
                    ids = [pid for pid in changed if chunk.first_party <= pid <= chunk.last_party]
                chunk.parties, chunk.keys = block_keys_write(
                    matcher, ids, fresh=changed is None and not retried
                )
            else:
                scores = chunk_score(
                    matcher,
                    run_id=run.pk,
                    chunk=chunk.index,
                    first=chunk.first_party,
                    last=chunk.last_party,
                    changed=changed,
                    budget=run.pair_budget,
                )
                chunk.candidate_pairs, chunk.pairs_scored = scores.candidates, scores.scored
                chunk.pairs_kept, chunk.partner_cap = scores.kept, scores.cap
    except Exception as exc:
        logger.exception("%s failed", chunk)
        _fail(run.pk, f"{chunk}: {exc}")
        raise
    chunk.seconds = time.monotonic() - started
    chunk.done_at = timezone.now()
    chunk.save()
    _progress_update(run.pk, chunk.phase)
    _phase_advance(run.pk, chunk.phase, inline)
    return chunk


def _progress_update(run_id: int, phase: str) -> None:
    totals = MatchRunChunk.objects.filter(run_id=run_id, done_at__isnull=False).aggregate(
        parties=Sum("parties", filter=Q(phase=RunPhase.FINGERPRINTING)),
        keys=Sum("keys", filter=Q(phase=RunPhase.FINGERPRINTING)),
        candidates=Sum("candidate_pairs", filter=Q(phase=RunPhase.SCORING)),
        scored=Sum("pairs_scored", filter=Q(phase=RunPhase.SCORING)),
        kept=Sum("pairs_kept", filter=Q(phase=RunPhase.SCORING)),
        over=Count("pk", filter=Q(phase=RunPhase.SCORING, partner_cap__isnull=False)),
        cap=Min("partner_cap", filter=Q(phase=RunPhase.SCORING)),
        done=Count("pk", filter=Q(phase=phase)),
    )
    MatchRun.objects.filter(pk=run_id).update(
        parties_blocked=totals["parties"] or 0,
        block_keys=totals["keys"] or 0,
        candidate_pairs=totals["candidates"] or 0,
        pairs_scored=totals["scored"] or 0,
        pairs_kept=totals["kept"] or 0,
        chunks_over_budget=totals["over"],
        partner_cap=totals["cap"],
        chunks_done=totals["done"],
        heartbeat_at=timezone.now(),
    )


NEXT_PHASE: dict[str, RunPhase] = {
    RunPhase.FINGERPRINTING: RunPhase.SCORING,
    RunPhase.SCORING: RunPhase.CLUSTERING,
}


def _phase_advance(run_id: int, phase: str, inline: bool) -> None:
    """When every chunk of ``phase`` is done, move the run on (exactly once, whichever
    worker gets here first)."""
    if MatchRunChunk.objects.filter(run_id=run_id, phase=phase, done_at__isnull=True).exists():
        return
    now = timezone.now()
    chunks: list[MatchRunChunk] = []
    with transaction.atomic():
        run = MatchRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.phase != phase:
            return
        run.phase_seconds = {
            **run.phase_seconds,
            phase: _phase_seconds(run, now),
        }
        run.phase, run.phase_started_at, run.heartbeat_at = NEXT_PHASE[phase], now, now
        if run.phase == RunPhase.SCORING:
            run.oversized_blocks = blocks_prepare(full=run.full, party_ids=_changed(run))
            run.rules = _rules_measure(run) if run.full else {}
            chunks = _chunks_plan(run, RunPhase.SCORING)
            if not chunks:
                run.phase_seconds = {**run.phase_seconds, RunPhase.SCORING: 0.0}
                run.phase = RunPhase.CLUSTERING
        run.save(
            update_fields=[
                "phase_seconds",
                "phase",
                "phase_started_at",
                "heartbeat_at",
                "oversized_blocks",
                "rules",
            ]
        )
    if chunks:
        _dispatch(run_id, chunks, inline)
    elif inline:
        cluster_execute(run_id=run_id)
    else:
        from matching.tasks import match_cluster_task

        match_cluster_task.delay(run_id)


def _rules_measure(run: MatchRun) -> dict:
    """A full run's per-rule statistics (``blocking_rules_measure``), taken once, when every
    party is fingerprinted. Incremental runs leave them to full runs: the measure reads every
    party's keys (about 1.8 s per 100,000 parties on PostgreSQL), which would make a run over a
    few changed parties many times slower. They inform, they do not match: if they cannot be
    measured the run goes on and its page says why."""
    try:
        with transaction.atomic():  # a savepoint: a failed query must not abort the phase change
            return blocking_rules_measure(_matcher(run.model_id) if run.model_id else None)
    except Exception as exc:  # reported on the run page, logged with its trace
        logger.exception("blocking rule statistics of %s failed", run)
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}


class _AlreadyClustered(Exception):
    pass


def cluster_execute(*, run_id: int) -> MatchRun:
    """The last phase: cluster the run's kept pairs at its threshold, save suggestions,
    record the threshold curve, and finish the run."""
    run = MatchRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING or run.phase != RunPhase.CLUSTERING:
        return run
    try:
        scores = scored_pairs(run.pk)
        curve = threshold_curve(scores) if run.full else []
        clusters = clusters_of(_matcher(run.model_id), scores, run.threshold)
        # The suggestions, the end of the scored pairs and the run's end commit together: a
        # worker dying in between leaves the run to be clustered again from the same pairs
        # (by the task sent again, c360.kernel.durable), never finished without its suggestions.
        with transaction.atomic():
            made = suggestions_save(run, clusters, _changed(run))
            ScoredPair.objects.filter(run_id=run.pk).delete()
            now = timezone.now()
            seconds = {
                **run.phase_seconds,
                RunPhase.CLUSTERING: _phase_seconds(run, now),
            }
            if not MatchRun.objects.filter(
                pk=run_id, status=RunStatus.RUNNING, phase=RunPhase.CLUSTERING
            ).update(
                status=RunStatus.SUCCEEDED,
                phase=RunPhase.DONE,
                clusters=made,
                threshold_curve=curve,
                phase_seconds=seconds,
                finished_at=now,
                heartbeat_at=now,
            ):
                raise _AlreadyClustered
    except _AlreadyClustered:  # a second copy of the task (its worker was thought dead)
        return MatchRun.objects.get(pk=run_id)
    except Exception as exc:
        logger.exception("clustering of match run #%s failed", run_id)
        _fail(run_id, str(exc))
        raise
    auto = suggestions_auto_merge(run_id=run_id)
    if auto.merged:
        MatchRun.objects.filter(pk=run_id).update(auto_merged=auto.merged)
    return MatchRun.objects.get(pk=run_id)


def match_run_request(
    *, party_ids: list[int] | None, threshold: float | None = None, queue: bool = True
) -> MatchRun | None:
    """Ask for a match: full when ``party_ids`` is None (or too many to be worth an
    incremental run), else incremental. Incremental requests join a run that is still
    queued (imports announce every batch), so a large import becomes one run rather than
    hundreds. Returns None without a trained model. ``queue=False`` only creates the run."""
    if not MatcherModel.objects.filter(is_active=True).exists():
        return None
    if threshold is None:
        threshold = MatchSettings.current().review_threshold
    with transaction.atomic():
        if party_ids is not None:
            queued = MatchRun.objects.select_for_update().filter(status=RunStatus.QUEUED, full=False).first()
            if queued is not None:
                merged = sorted(set(queued.party_ids) | set(party_ids))
                if len(merged) > INCREMENTAL_MAX:
                    queued.full, merged = True, []
                queued.party_ids = merged
                queued.save(update_fields=["party_ids", "full"])
                return queued
            if len(set(party_ids)) > INCREMENTAL_MAX:
                party_ids = None
        run = MatchRun.objects.create(
            full=party_ids is None, party_ids=sorted(set(party_ids or [])), threshold=threshold
        )
        if queue:
            from matching.tasks import match_run_task

            transaction.on_commit(lambda: match_run_task.delay(run.pk))
        return run


def match_run_full_start() -> MatchRun:
    """Start a full match run (the steward's button; any other caller gets the same guards).

    Raises ``NoModel`` without an active matcher model and ``FullRunUnderway`` while another
    full run is queued or running; then nothing is created. The active model's row is locked
    while checking, so two people pressing the button at once start one run, not two."""
    with transaction.atomic():
        if MatcherModel.objects.select_for_update().filter(is_active=True).first() is None:
            raise NoModel("train the matcher first: there is no model to match with")
        if MatchRun.objects.filter(status__in=ACTIVE, full=True).exists():
            raise FullRunUnderway("a full match run is already under way")
        run = match_run_request(party_ids=None)
        if run is None:  # not while the active model is locked; said for the type checker
            raise NoModel("train the matcher first: there is no model to match with")
    return run


def parties_changed_rematch(party_ids, reason: str) -> None:
    """Registered with parties' extension point: new and changed parties get matched."""
    match_run_request(party_ids=list(party_ids))


def parties_changed_since_last_run() -> list[int] | None:
    """Parties updated since the last successful run started, or None if there never was one
    (then only a full run makes sense)."""
    last = MatchRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-started_at").first()
    if last is None or not BlockKey.objects.exists():
        return None
    return list(Party.objects.filter(updated_at__gte=last.started_at).values_list("pk", flat=True))


def run_wait(
    run_id: int, *, poll: float = 1.0, on_progress: Callable[[MatchRun], None] | None = None
) -> MatchRun:
    """Block until a run finishes (for the command line)."""
    while True:
        run = MatchRun.objects.get(pk=run_id)
        if on_progress:
            on_progress(run)
        if run.status not in ACTIVE:
            return run
        time.sleep(poll)
