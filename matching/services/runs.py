"""A full match run: fingerprint every active party into a block-key table, let the
database join it into candidate pairs, score the pairs in chunks, cluster, and save the
clusters as suggestions with per-field evidence.

Memory grows with the pairs kept for clustering, not with the candidate pairs: scores of
0.2 or less are dropped before clustering (they only chain unrelated records together).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import dedupe
import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from matching.fields import FIELDS
from matching.models import (
    BlockKey,
    MatcherModel,
    MatchRun,
    MatchSuggestion,
    MatchSuggestionMember,
    RunStatus,
    SuggestionStatus,
)
from matching.selectors import party_records
from parties.models import Party

logger = logging.getLogger(__name__)

BATCH = 5000
PAIR_CHUNK = 20_000
DROP_SCORES_AT_OR_BELOW = 0.2


class NoModel(RuntimeError):
    pass


def _matcher(model: MatcherModel) -> dedupe.StaticDedupe:
    # Settings are pickles: only ones this product wrote itself are ever loaded.
    return dedupe.StaticDedupe(io.BytesIO(bytes(model.settings_blob)), num_cores=1)


def _party_batches() -> Iterator[dict[int, dict]]:
    last = 0
    while True:
        ids = list(Party.objects.active().filter(pk__gt=last).order_by("pk")
                   .values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        yield party_records(ids)
        last = ids[-1]


def _blocks_build(run: MatchRun, matcher: dedupe.StaticDedupe,
                  party_ids: list[int] | None = None) -> None:
    """Fingerprint all active parties, or only ``party_ids`` (an incremental run): their old
    block keys are replaced, everyone else's stay as stored."""
    fingerprinter = matcher.fingerprinter
    if fingerprinter.index_fields:
        # Canopy predicates compare against the values of every party, so the index always
        # covers everyone; it is rebuilt from the indexed fields only.
        values: dict[str, set] = {field: set() for field in fingerprinter.index_fields}
        for batch in _party_batches():
            for record in batch.values():
                for field in values:
                    if record[field]:
                        values[field].add(record[field])
        for field, docs in values.items():
            fingerprinter.index(docs, field)
    if party_ids is None:
        BlockKey.objects.all().delete()
        batches = _party_batches()
    else:
        BlockKey.objects.filter(party_id__in=party_ids).delete()
        batches = (party_records(party_ids[i:i + BATCH]) for i in range(0, len(party_ids), BATCH))
    parties = keys = 0
    for batch in batches:
        rows = [BlockKey(block_key=key[:255], party_id=party_id)
                for key, party_id in fingerprinter(batch.items())]
        BlockKey.objects.bulk_create(rows, batch_size=5000)
        parties += len(batch)
        keys += len(rows)
        MatchRun.objects.filter(pk=run.pk).update(parties_blocked=parties, block_keys=keys)
    fingerprinter.reset_indices()


def _candidate_pairs(party_ids: list[int] | None = None) -> Iterator[list[tuple[int, int]]]:
    """Distinct pairs of parties that share a block key, computed by the database; with
    ``party_ids``, only pairs that involve one of them."""
    table = connection.ops.quote_name(BlockKey._meta.db_table)
    sql = (f"SELECT DISTINCT a.party_id, b.party_id FROM {table} a JOIN {table} b "  # noqa: S608
           f"ON a.block_key = b.block_key AND a.party_id < b.party_id")
    params: list = []
    if party_ids is not None:
        marks = ", ".join(["%s"] * len(party_ids))
        sql += f" WHERE a.party_id IN ({marks}) OR b.party_id IN ({marks})"
        params = [*party_ids, *party_ids]
    sql += " ORDER BY 1, 2"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(PAIR_CHUNK):
            yield rows


def _score(run: MatchRun, matcher: dedupe.StaticDedupe,
           party_ids: list[int] | None = None) -> np.ndarray:
    kept = []
    candidates = 0
    for chunk in _candidate_pairs(party_ids):
        records = party_records({pid for pair in chunk for pid in pair})
        pairs = [((a, records[a]), (b, records[b])) for a, b in chunk if a in records and b in records]
        candidates += len(chunk)
        if pairs:
            scores = matcher.score(pairs)
            kept.append(scores[scores["score"] > DROP_SCORES_AT_OR_BELOW])
        MatchRun.objects.filter(pk=run.pk).update(
            candidate_pairs=candidates, pairs_kept=sum(len(k) for k in kept))
    if not kept:
        return np.array([], dtype=[("pairs", "i8", 2), ("score", "f4")])
    return np.concatenate(kept)


def _evidence(records: dict[int, dict], members: list[int]) -> dict:
    evidence = {}
    for field in FIELDS:
        values = {str(pid): (list(records[pid][field]) if isinstance(records[pid][field], tuple)
                             else records[pid][field]) for pid in members if pid in records}
        present = [v for v in values.values() if v]
        if not present:
            agreement = "missing"
        elif isinstance(present[0], list):
            shared = set(present[0]).intersection(*map(set, present[1:]))
            agreement = "same" if shared and len(present) == len(values) else (
                "overlap" if shared else "different")
        else:
            agreement = "same" if len(set(present)) == 1 and len(present) == len(values) else (
                "partial" if len(set(present)) == 1 else "different")
        evidence[field] = {"agreement": agreement, "values": values}
    return evidence


def match_run_execute(*, run_id: int) -> MatchRun:
    """Run a queued match to the end (see the module docstring). A run that is not ``full``
    fingerprints and compares only its ``party_ids`` against everyone's stored block keys."""
    if not MatchRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=timezone.now()):
        return MatchRun.objects.get(pk=run_id)
    run = MatchRun.objects.get(pk=run_id)
    try:
        model = MatcherModel.objects.filter(is_active=True).first()
        if model is None:
            raise NoModel("no trained model yet: train the matcher first")
        MatchRun.objects.filter(pk=run.pk).update(model=model)
        matcher = _matcher(model)
        party_ids = None if run.full else sorted(set(run.party_ids))
        _blocks_build(run, matcher, party_ids)
        scores = _score(run, matcher, party_ids)
        clusters = list(matcher.cluster(scores, threshold=run.threshold)) if len(scores) else []
        _suggestions_save(run, clusters, party_ids)
    except Exception as exc:
        logger.exception("match run #%s failed", run_id)
        MatchRun.objects.filter(pk=run_id).update(status=RunStatus.FAILED, error=str(exc),
                                                   finished_at=timezone.now())
        if not isinstance(exc, NoModel):
            raise
        return MatchRun.objects.get(pk=run_id)
    MatchRun.objects.filter(pk=run_id).update(status=RunStatus.SUCCEEDED, clusters=len(clusters),
                                               finished_at=timezone.now())
    return MatchRun.objects.get(pk=run_id)


@transaction.atomic
def _suggestions_save(run: MatchRun, clusters: list, party_ids: list[int] | None = None) -> None:
    """A newer run supersedes the pending suggestions it covers: all of them for a full run,
    those with one of its parties for an incremental run."""
    pending = MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    if party_ids is not None:
        pending = pending.filter(members__party_id__in=party_ids).distinct()
    MatchSuggestion.objects.filter(pk__in=list(pending.values_list("pk", flat=True))).update(
        status=SuggestionStatus.SUPERSEDED)
    for ids, member_scores in clusters:
        members = [int(i) for i in ids]
        records = party_records(members)
        suggestion = MatchSuggestion.objects.create(
            run=run, score=float(np.min(member_scores)), evidence=_evidence(records, members))
        MatchSuggestionMember.objects.bulk_create([
            MatchSuggestionMember(suggestion=suggestion, party_id=pid, score=float(score))
            for pid, score in zip(members, member_scores, strict=True)])


def match_run_request(*, party_ids: list[int] | None, threshold: float = 0.5) -> MatchRun | None:
    """Ask for a match: full when ``party_ids`` is None, else incremental. Incremental
    requests join a run that is still queued (imports announce every batch), so a large
    import becomes one run rather than hundreds. Returns None without a trained model."""
    if not MatcherModel.objects.filter(is_active=True).exists():
        return None
    with transaction.atomic():
        if party_ids is not None:
            queued = (MatchRun.objects.select_for_update()
                      .filter(status=RunStatus.QUEUED, full=False).first())
            if queued is not None:
                queued.party_ids = sorted(set(queued.party_ids) | set(party_ids))
                queued.save(update_fields=["party_ids"])
                return queued
        run = MatchRun.objects.create(full=party_ids is None, party_ids=sorted(set(party_ids or [])),
                                      threshold=threshold)
        from matching.tasks import match_run_task

        transaction.on_commit(lambda: match_run_task.delay(run.pk))
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
    return list(Party.objects.active().filter(updated_at__gte=last.started_at)
                .values_list("pk", flat=True))
