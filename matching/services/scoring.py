"""Candidate pairs from the block-key table, scored in chunks.

A full run's chunk owns the pairs whose smaller party id lies in its range, so every pair is
scored exactly once whichever worker takes the chunk. An incremental run's chunk owns the
pairs that touch one of its new/changed parties in that range (a pair of two such parties
belongs to the chunk of the smaller one). Pairs a steward rejected, and block keys shared by
too many parties (``OversizedBlock``), are skipped in SQL. The pair budget bounds how many
candidate pairs a chunk scores, whatever predicates the model learned (``candidate_pairs``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dedupe
import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from matching.models import BlockKey, MatchSettings, OversizedBlock, PairDecision, ScoredPair
from matching.rules import RULES_BY_CODE, STRONG_PREFIXES
from matching.selectors import match_records
from parties.services.bulk_writer import rows_insert

PAIR_CHUNK = 20_000
# Under the pair budget, partners are ranked by their shared block keys; a shared standard key
# (same name and birth date, …: matching.rules) counts this many learned ones. A shared strong
# key (same email, phone or identifier) keeps the pair whatever the budget.
STANDARD_KEY_WEIGHT = 3
DROP_SCORES_AT_OR_BELOW = 0.2


def _marks(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True)
class Candidates:
    """A chunk's candidate pairs: how many the block keys gave (``found``), and the ones to
    score (``pairs``, an (n, 2) array of party ids, smaller first), which the pair budget may
    have narrowed to each party's ``cap`` closest partners."""

    found: int
    pairs: np.ndarray
    cap: int | None = None

    def batches(self, size: int = PAIR_CHUNK) -> Iterator[list[tuple[int, int]]]:
        for start in range(0, len(self.pairs), size):
            yield [(int(a), int(b)) for a, b in self.pairs[start : start + size]]


def budget_cap(partners: np.ndarray, budget: int) -> int | None:
    """The largest number K of partners per party such that the parties, each keeping at
    most K of its ``partners`` (a count per party), keep ``budget`` pairs or fewer. None
    when every pair fits. Parties with few partners keep them all; only the ones that
    weak predicates flooded are trimmed."""
    if int(partners.sum()) <= budget:
        return None
    fits, too_many = 0, int(partners.max())  # sum(min(partners, too_many)) > budget
    while fits + 1 < too_many:
        middle = (fits + too_many) // 2
        if int(np.minimum(partners, middle).sum()) <= budget:
            fits = middle
        else:
            too_many = middle
    return fits


def closest_partners(owner: np.ndarray, partner: np.ndarray, shared: np.ndarray, cap: int) -> np.ndarray:
    """A mask of the rows that rank among their owner's ``cap`` partners sharing the most
    block keys (duplicates share most of theirs; ties go to the smaller partner id)."""
    order = np.lexsort((partner, -shared, owner))
    sorted_owner = owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank < cap]] = True
    return keep


def candidate_pairs(
    first: int, last: int, *, changed: list[int] | None = None, budget: int | None = None
) -> Candidates:
    """Distinct (a, b) with a < b sharing a block key, not rejected, owned by the chunk
    [first, last] (see the module docstring).

    The pair budget (``C360_MATCHING_PAIR_BUDGET`` candidate pairs per party, unless
    ``budget`` says otherwise; 0: none) bounds the scoring work a model with weak learned
    predicates causes: a run scores about budget × parties pairs at most, each chunk its share
    (``_allowance``). A chunk with more candidates than its share keeps, for each party, the
    K partners sharing the most block keys, K as large as the share allows (``budget_cap``)
    and at least 1: only the parties with the most candidates are trimmed."""
    keys = connection.ops.quote_name(BlockKey._meta.db_table)
    decisions = connection.ops.quote_name(PairDecision._meta.db_table)
    oversized = connection.ops.quote_name(OversizedBlock._meta.db_table)
    empty = Candidates(0, np.empty((0, 2), dtype="i8"))
    params: list[Any]  # a range, two arrays (PostgreSQL) or the ids themselves
    if changed is None:
        join, where, params = "a.party_id < b.party_id", "a.party_id BETWEEN %s AND %s", [first, last]
        lo, hi = "a.party_id", "b.party_id"
    else:
        mine = [pid for pid in changed if first <= pid <= last]
        if not mine:
            return empty
        # b is any other party, except a changed one with a smaller id (that pair is owned
        # by the smaller party's chunk).
        join = "a.party_id <> b.party_id"
        if connection.vendor == "postgresql":  # one array parameter each, whatever the size
            where = "a.party_id = ANY(%s) AND NOT (b.party_id < a.party_id AND b.party_id = ANY(%s))"
            params = [mine, changed]
        else:  # INCREMENTAL_MAX and the chunk size keep this under SQLite's 32,766 parameters
            where = (
                f"a.party_id IN ({_marks(mine)}) "
                f"AND NOT (b.party_id < a.party_id AND b.party_id IN ({_marks(changed)}))"
            )
            params = [*mine, *changed]
        lo = "CASE WHEN a.party_id < b.party_id THEN a.party_id ELSE b.party_id END"
        hi = "CASE WHEN a.party_id < b.party_id THEN b.party_id ELSE a.party_id END"
    # keys of a standard rule switched off since they were written (an incremental run
    # rewrites only its own parties' keys) are not used
    off = [
        RULES_BY_CODE[code].prefix
        for code in MatchSettings.current().rules_off or []
        if code in RULES_BY_CODE
    ]
    where += "".join(f" AND a.block_key NOT LIKE '{prefix}%%'" for prefix in off)
    strong = (
        " OR ".join(f"a.block_key LIKE '{prefix}%%'" for prefix in STRONG_PREFIXES if prefix not in off)
        or "1 = 0"
    )
    sql = (
        f"SELECT a.party_id, b.party_id, "  # noqa: S608
        f"SUM(CASE WHEN a.block_key LIKE '~%%' THEN {STANDARD_KEY_WEIGHT} ELSE 1 END), "
        f"MAX(CASE WHEN {strong} THEN 1 ELSE 0 END) FROM {keys} a "
        f"JOIN {keys} b ON a.block_key = b.block_key AND {join} WHERE {where} "
        f"AND NOT EXISTS (SELECT 1 FROM {oversized} o WHERE o.block_key = a.block_key) "
        f"AND NOT EXISTS (SELECT 1 FROM {decisions} d WHERE d.is_active "
        f"AND d.decision = 'rejected' AND d.party_a_id = {lo} AND d.party_b_id = {hi}) "
        f"GROUP BY a.party_id, b.party_id"
    )
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(PAIR_CHUNK * 5):
            parts.append(np.array(rows, dtype="i8"))
    if not parts:
        return empty
    rows = np.concatenate(parts)
    owner, partner, shared, must = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3].astype(bool)
    pairs = np.sort(rows[:, :2], axis=1)  # (smaller, larger): the owner may be either
    per_party = settings.C360_MATCHING_PAIR_BUDGET if budget is None else budget
    cap = (
        budget_cap(np.unique(owner, return_counts=True)[1], _allowance(first, last, changed, per_party))
        if per_party
        else None
    )
    if cap is not None:
        cap = max(cap, 1)  # every party keeps its closest partner at least
    if cap is None:
        return Candidates(len(pairs), pairs)
    return Candidates(len(pairs), pairs[closest_partners(owner, partner, shared, cap) | must], cap)


def _allowance(first: int, last: int, changed: list[int] | None, per_party: int) -> int:
    """A chunk's share of the run's budget of ``per_party`` pairs per party, that is 2 ×
    ``per_party`` partners per party. An incremental chunk owns nearly every pair of its
    changed parties: 2 × per_party each. A full run's chunk owns the pairs whose other party
    has a larger id, which for a party at position r (0 first, 1 last) is the share 1 - r of its
    partners: the chunk's parties get 2 × per_party × (1 - r) each, the first chunks the
    most, and the whole run about per_party × parties (a little more where every party of a
    chunk keeps its closest partner)."""
    if changed is not None:
        return 2 * per_party * sum(1 for pid in changed if first <= pid <= last)
    from parties.models import Party

    counts = Party.objects.active().aggregate(
        before=Count("pk", filter=Q(pk__lt=first)),
        inside=Count("pk", filter=Q(pk__range=(first, last))),
        total=Count("pk"),
    )
    total, before, inside = counts["total"] or 1, counts["before"], counts["inside"]
    larger_ids = inside * (total - before) - inside * (inside + 1) / 2  # summed over the chunk
    return int(2 * per_party * larger_ids / total)


@dataclass(frozen=True)
class ChunkScores:
    candidates: int  # found through the block keys
    scored: int  # of those, within the pair budget
    kept: int  # scored above the drop line
    cap: int | None  # partners per party the budget allowed, when it had to


PairOfRecords = tuple[tuple[int, dict], tuple[int, dict]]


def _distances(
    data_model, record_pairs: Sequence[tuple[dict, dict]], needed: set[int] | None = None
) -> np.ndarray:
    """dedupe's ``DataModel.distances``, computed a column at a time: the same numbers
    (a test compares them) in less than half the time, because dedupe assigns every field of
    every pair into the numpy array one by one. ``needed``: the only columns the classifier
    reads (the others are left 0 and marked missing)."""
    distances = np.empty((len(record_pairs), len(data_model)), "f4")
    firsts = [pair[0] for pair in record_pairs]
    seconds = [pair[1] for pair in record_pairs]
    for field, compare, start, stop in data_model._field_comparators:
        if needed is not None and start not in needed:
            distances[:, start:stop] = np.nan
            continue
        always = hasattr(compare, "missing")  # comparators that score a missing value themselves
        left, right = [r[field] for r in firsts], [r[field] for r in seconds]
        if stop - start == 1:
            raw = getattr(compare, "unbounded", compare)  # a capped distance: clipped below
            distances[:, start] = [
                raw(a, b) if always or (a is not None and b is not None) else np.nan
                for a, b in zip(left, right, strict=True)
            ]
            if raw is not compare:
                np.minimum(distances[:, start], compare.cap, out=distances[:, start])
        else:
            for i, (a, b) in enumerate(zip(left, right, strict=True)):
                distances[i, start:stop] = (
                    compare(a, b) if always or (a is not None and b is not None) else np.nan
                )
    return data_model._add_derived_distances(distances)


def population_set(matcher) -> None:
    """Tell the classifier how many active parties there are now: its prior (two random
    records being one customer) shrinks as the data grows (``EvidenceClassifier.prior_for``)."""
    if hasattr(matcher.classifier, "prior_for"):
        from parties.models import Party

        matcher.classifier.parties = Party.objects.active().count()


def classifier_columns(classifier) -> set[int] | None:
    """The distance columns a classifier reads (``EvidenceClassifier``: its comparisons'), or
    None for dedupe's own, which reads them all."""
    columns = getattr(classifier, "columns", None)
    return {c.value for c in columns} if columns else None


def record_distances(data_model, classifier, record_pairs: Sequence[tuple[dict, dict]]) -> np.ndarray:
    """The distance matrix of record pairs, only the columns ``classifier`` reads computed."""
    if not record_pairs:
        return np.empty((0, len(data_model)), "f4")
    return _distances(data_model, record_pairs, needed=classifier_columns(classifier))


def pair_scores(matcher: dedupe.StaticDedupe, pairs: Sequence[PairOfRecords]) -> np.ndarray:
    """What ``matcher.score(pairs)`` returns — a structured array of (pairs, score), pairs
    scoring 0 left out — without dedupe's scoring thread and temporary file, and with the
    faster distances above."""
    dtype = np.dtype([("pairs", "i8", 2), ("score", "f4")])
    if not pairs:
        return np.empty(0, dtype=dtype)
    distances = _distances(
        matcher.data_model, [(a[1], b[1]) for a, b in pairs], needed=classifier_columns(matcher.classifier)
    )
    scores = matcher.classifier.predict_proba(distances)[:, -1]
    result = np.empty(len(pairs), dtype=dtype)
    result["pairs"] = [(a[0], b[0]) for a, b in pairs]
    result["score"] = scores
    return result[result["score"] > 0]


def chunk_score(
    matcher: dedupe.StaticDedupe,
    *,
    run_id: int,
    chunk: int,
    first: int,
    last: int,
    changed: list[int] | None = None,
    budget: int | None = None,
) -> ChunkScores:
    """Score a chunk's candidate pairs (within the pair budget) and store those above the
    drop line as ScoredPair rows, replacing any from an earlier attempt at the same chunk."""
    ScoredPair.objects.filter(run_id=run_id, chunk=chunk).delete()
    population_set(matcher)
    candidates = candidate_pairs(first, last, changed=changed, budget=budget)
    kept = 0
    now = timezone.now()
    for pairs in candidates.batches():
        records = match_records({pid for pair in pairs for pid in pair})
        known = [((a, records[a]), (b, records[b])) for a, b in pairs if a in records and b in records]
        if not known:
            continue
        scores = pair_scores(matcher, known)
        scores = scores[scores["score"] > DROP_SCORES_AT_OR_BELOW]
        rows_insert(
            ScoredPair,
            [
                {
                    "run_id": run_id,
                    "chunk": chunk,
                    "party_a": int(a),
                    "party_b": int(b),
                    "score": float(score),
                }
                for (a, b), score in zip(scores["pairs"], scores["score"], strict=True)
            ],
            now=now,
        )
        kept += len(scores)
    return ChunkScores(candidates.found, len(candidates.pairs), kept, candidates.cap)


def scored_pairs(run_id: int) -> np.ndarray:
    """A run's kept pairs in the structured array ``cluster()`` takes."""
    rows = list(
        ScoredPair.objects.filter(run_id=run_id)
        .values_list("party_a", "party_b", "score")
        .iterator(chunk_size=50_000)
    )
    scores = np.empty(len(rows), dtype=[("pairs", "i8", 2), ("score", "f4")])
    if rows:
        array = np.array(rows, dtype="f8")
        scores["pairs"] = array[:, :2].astype("i8")
        scores["score"] = array[:, 2]
    return scores
