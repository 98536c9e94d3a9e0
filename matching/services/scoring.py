"""Candidate pairs from the block-key table, scored in chunks.

A full run's chunk owns the pairs whose smaller party id lies in its range, so every pair is
scored exactly once whichever worker takes the chunk. An incremental run's chunk owns the
pairs that touch one of its new/changed parties in that range (a pair of two such parties
belongs to the chunk of the smaller one). Pairs a steward rejected, and block keys shared by
too many parties (``OversizedBlock``), are skipped in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dedupe
import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from matching.models import BlockKey, OversizedBlock, PairDecision, ScoredPair
from matching.selectors import match_records
from parties.services.bulk_writer import rows_insert

PAIR_CHUNK = 20_000
DROP_SCORES_AT_OR_BELOW = 0.2


def _marks(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


def candidate_pairs(first: int, last: int, *,
                    changed: list[int] | None = None) -> Iterator[list[tuple[int, int]]]:
    """Distinct (a, b) with a < b sharing a block key, not rejected, owned by the chunk
    [first, last] (see the module docstring), ``PAIR_CHUNK`` at a time."""
    keys = connection.ops.quote_name(BlockKey._meta.db_table)
    decisions = connection.ops.quote_name(PairDecision._meta.db_table)
    oversized = connection.ops.quote_name(OversizedBlock._meta.db_table)
    if changed is None:
        join, where, params = "a.party_id < b.party_id", "a.party_id BETWEEN %s AND %s", [first, last]
        lo, hi = "a.party_id", "b.party_id"
    else:
        mine = [pid for pid in changed if first <= pid <= last]
        if not mine:
            return
        # b is any other party, except a changed one with a smaller id (that pair is owned
        # by the smaller party's chunk).
        join = "a.party_id <> b.party_id"
        if connection.vendor == "postgresql":  # one array parameter each, whatever the size
            where = "a.party_id = ANY(%s) AND NOT (b.party_id < a.party_id AND b.party_id = ANY(%s))"
            params = [mine, changed]
        else:  # INCREMENTAL_MAX and the chunk size keep this under SQLite's 32,766 parameters
            where = (f"a.party_id IN ({_marks(mine)}) "
                     f"AND NOT (b.party_id < a.party_id AND b.party_id IN ({_marks(changed)}))")
            params = [*mine, *changed]
        lo = "CASE WHEN a.party_id < b.party_id THEN a.party_id ELSE b.party_id END"
        hi = "CASE WHEN a.party_id < b.party_id THEN b.party_id ELSE a.party_id END"
    pairs = (f"FROM {keys} a "  # noqa: S608
             f"JOIN {keys} b ON a.block_key = b.block_key AND {join} WHERE {where} "
             f"AND NOT EXISTS (SELECT 1 FROM {oversized} o WHERE o.block_key = a.block_key) "
             f"AND NOT EXISTS (SELECT 1 FROM {decisions} d WHERE d.is_active "
             f"AND d.decision = 'rejected' AND d.party_a_id = {lo} AND d.party_b_id = {hi})")
    cap = settings.C360_MATCHING_MAX_CANDIDATES
    if cap:
        # Each party's partners ranked by how many block keys they share (duplicates share
        # most of theirs), the best ``cap`` kept: weak predicates cannot flood the scoring.
        sql = (f"SELECT lo, hi FROM (SELECT {lo} AS lo, {hi} AS hi, ROW_NUMBER() OVER ("  # noqa: S608
               f"PARTITION BY a.party_id ORDER BY COUNT(*) DESC, {hi}) AS rank {pairs} "
               f"GROUP BY a.party_id, {lo}, {hi}) ranked WHERE rank <= {int(cap)}")
    else:
        sql = f"SELECT DISTINCT {lo}, {hi} {pairs}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(PAIR_CHUNK):
            yield rows


PairOfRecords = tuple[tuple[int, dict], tuple[int, dict]]


def _distances(data_model, record_pairs: Sequence[tuple[dict, dict]]) -> np.ndarray:
    """dedupe's ``DataModel.distances``, computed a column at a time: the same numbers
    (a test compares them) in less than half the time, because dedupe assigns every field of
    every pair into the numpy array one by one."""
    distances = np.empty((len(record_pairs), len(data_model)), "f4")
    firsts = [pair[0] for pair in record_pairs]
    seconds = [pair[1] for pair in record_pairs]
    for field, compare, start, stop in data_model._field_comparators:
        always = hasattr(compare, "missing")  # comparators that score a missing value themselves
        left, right = [r[field] for r in firsts], [r[field] for r in seconds]
        if stop - start == 1:
            distances[:, start] = [compare(a, b) if always or (a is not None and b is not None)
                                   else np.nan for a, b in zip(left, right, strict=True)]
        else:
            for i, (a, b) in enumerate(zip(left, right, strict=True)):
                distances[i, start:stop] = (compare(a, b) if always or (a is not None and b is not None)
                                            else np.nan)
    return data_model._add_derived_distances(distances)


def pair_scores(matcher: dedupe.StaticDedupe, pairs: Sequence[PairOfRecords]) -> np.ndarray:
    """What ``matcher.score(pairs)`` returns — a structured array of (pairs, score), pairs
    scoring 0 left out — without dedupe's scoring thread and temporary file, and with the
    faster distances above."""
    dtype = np.dtype([("pairs", "i8", 2), ("score", "f4")])
    if not pairs:
        return np.empty(0, dtype=dtype)
    distances = _distances(matcher.data_model, [(a[1], b[1]) for a, b in pairs])
    scores = matcher.classifier.predict_proba(distances)[:, -1]
    result = np.empty(len(pairs), dtype=dtype)
    result["pairs"] = [(a[0], b[0]) for a, b in pairs]
    result["score"] = scores
    return result[result["score"] > 0]


def chunk_score(matcher: dedupe.StaticDedupe, *, run_id: int, chunk: int, first: int, last: int,
                changed: list[int] | None = None) -> tuple[int, int]:
    """Score a chunk's candidate pairs and store those above the drop line as ScoredPair
    rows (replacing any from an earlier attempt at the same chunk). Returns
    (candidate pairs, pairs kept)."""
    ScoredPair.objects.filter(run_id=run_id, chunk=chunk).delete()
    candidates = kept = 0
    now = timezone.now()
    for pairs in candidate_pairs(first, last, changed=changed):
        records = match_records({pid for pair in pairs for pid in pair})
        known = [((a, records[a]), (b, records[b])) for a, b in pairs if a in records and b in records]
        candidates += len(pairs)
        if not known:
            continue
        scores = pair_scores(matcher, known)
        scores = scores[scores["score"] > DROP_SCORES_AT_OR_BELOW]
        rows_insert(ScoredPair, [
            {"run_id": run_id, "chunk": chunk, "party_a": int(a), "party_b": int(b),
             "score": float(score)} for (a, b), score in zip(scores["pairs"], scores["score"],
                                                             strict=True)], now=now)
        kept += len(scores)
    return candidates, kept


def scored_pairs(run_id: int) -> np.ndarray:
    """A run's kept pairs in the structured array ``cluster()`` takes."""
    rows = list(ScoredPair.objects.filter(run_id=run_id).values_list("party_a", "party_b", "score")
                .iterator(chunk_size=50_000))
    scores = np.empty(len(rows), dtype=[("pairs", "i8", 2), ("score", "f4")])
    if rows:
        array = np.array(rows, dtype="f8")
        scores["pairs"] = array[:, :2].astype("i8")
        scores["score"] = array[:, 2]
    return scores
