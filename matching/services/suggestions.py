"""From scored pairs to suggestions: clustering, evidence, the threshold curve, and the
hygiene rules (a newer run supersedes what it covers; suggestions whose parties are no
longer active are closed)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import combinations
from typing import Literal

import dedupe
import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matching.classifier import EvidenceClassifier
from matching.cluster_evidence import (  # noqa: F401 - re-exported: callers import them from here
    ALL_PAIRS_UP_TO,
    LevelWeights,
    evidence_build,
    evidences_build,
    member_pairs,
    pair_evidence,
)
from matching.digests import content_digest, values_digest
from matching.models import MatcherModel, MatchRun, MatchSuggestion, MatchSuggestionMember, SuggestionStatus
from matching.selectors import match_records, rows_for_ids
from matching.services.facets import suggestion_facets
from parties.models import Party, PartyStatus
from parties.services.bulk_writer import ids_allocate, rows_insert

CURVE_THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(16)]  # 0.2 … 0.95


def evidence_of(
    records: dict[int, dict],
    members: list[int],
    *,
    weights: LevelWeights | None | Literal["active"] = "active",
    center: int | None = None,
) -> dict:
    """``matching.cluster_evidence.evidence_build`` with the active model's weights by
    default (None: without)."""
    if weights == "active":
        weights = active_level_weights()
    return evidence_build(records, members, weights, center)


_weights_cache: dict[tuple, dict[str, list[float]] | None] = {}


def level_weights_of(model_id: int | None) -> dict[str, list[float]] | None:
    """The log-odds each comparison level adds under the model (None: no model, or one whose
    classifier does not weigh levels). Loaded once per model and process; each call asks the
    database only whether the model was retrained."""
    if model_id is None:
        return None
    row = MatcherModel.objects.filter(pk=model_id).values_list("pk", "trained_at").first()
    if row is None:
        return None
    if row not in _weights_cache:
        from matching.services.blocking import matcher_load

        classifier = getattr(matcher_load(MatcherModel.objects.get(pk=row[0])), "classifier", None)
        _weights_cache.clear()
        _weights_cache[row] = (
            classifier.level_weights() if isinstance(classifier, EvidenceClassifier) else None
        )
    return _weights_cache[row]


def active_level_weights() -> dict[str, list[float]] | None:
    return level_weights_of(MatcherModel.objects.filter(is_active=True).values_list("pk", flat=True).first())


def threshold_curve(scores: np.ndarray) -> list[dict]:
    """For each threshold: the pairs scoring at or above it, and the groups of parties those
    pairs connect (what a review threshold there would roughly put in the queue)."""
    curve = []
    for threshold in CURVE_THRESHOLDS:
        kept = scores[scores["score"] >= threshold]
        if not len(kept):
            curve.append({"threshold": threshold, "pairs": 0, "groups": 0, "parties": 0})
            continue
        ids, edges = np.unique(kept["pairs"], return_inverse=True)
        edges = edges.reshape(-1, 2)
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(ids), len(ids)))
        groups, _ = connected_components(graph, directed=False)
        curve.append(
            {"threshold": threshold, "pairs": int(len(kept)), "groups": int(groups), "parties": int(len(ids))}
        )
    return curve


# dedupe's cluster() builds a distance matrix per connected group: a group of 30,000 parties
# (low scores chaining records together) took 8 GB at a million parties. Groups larger than
# this are split first by raising the score floor inside them, 0.05 at a time.
MAX_GROUP = 2000


def groups_bounded(scores: np.ndarray, max_group: int = MAX_GROUP) -> np.ndarray:
    """``scores`` without the weakest pairs of any connected group of more than
    ``max_group`` parties, raising the floor only inside such groups until none is left."""
    floor = 0.2
    while len(scores) and floor < 1:
        ids, edges = np.unique(scores["pairs"], return_inverse=True)
        edges = edges.reshape(-1, 2)
        graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(ids), len(ids)))
        _, labels = connected_components(graph, directed=False)
        too_big = np.bincount(labels) > max_group
        if not too_big.any():
            break
        floor += 0.05
        in_big = too_big[labels[edges[:, 0]]]
        scores = scores[~in_big | (scores["score"] > floor)]
    return scores


COMPLETE_MAX = 16  # groups up to this size have every pair scored before clustering


def scores_completed(matcher: dedupe.StaticDedupe, scores: np.ndarray, threshold: float) -> np.ndarray:
    """``scores`` plus the pairs that were never candidates inside each group of 3 to
    ``COMPLETE_MAX`` parties joined by pairs at or above ``threshold``, scored now.

    dedupe's clustering (centroid linkage) counts a pair it has no score for as "certainly two
    customers". A person with five records, whose records share one blocking key here and
    another there, was then split however sure each scored pair was (FEBRL3: 75 of 168 missed
    true pairs scored 1.0 and still ended in two clusters); and two strangers chained through a
    third record were kept only by that chain. Scored, the missing pairs say which it is. A pair
    a steward called "not a match" is not scored again (it stays missing)."""
    from matching.models import PairDecision
    from matching.services.scoring import pair_scores, population_set

    strong = scores[scores["score"] >= threshold]
    if not len(strong):
        return scores
    ids, edges = np.unique(strong["pairs"], return_inverse=True)
    edges = edges.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    wanted = (sizes[labels] >= 3) & (sizes[labels] <= COMPLETE_MAX)
    if not wanted.any():
        return scores
    groups: dict[int, list[int]] = {}
    for pid, label in zip(ids[wanted].tolist(), labels[wanted].tolist(), strict=True):
        groups.setdefault(label, []).append(pid)
    members = ids[wanted]
    inside = np.isin(scores["pairs"][:, 0], members) & np.isin(scores["pairs"][:, 1], members)
    have = {(min(a, b), max(a, b)) for a, b in scores["pairs"][inside].tolist()}
    missing = [
        pair for group in groups.values() for pair in combinations(sorted(group), 2) if pair not in have
    ]
    if not missing:
        return scores
    table = connection.ops.quote_name(PairDecision._meta.db_table)
    decided = {
        (min(a, b), max(a, b))
        for a, b in rows_for_ids(
            f"SELECT party_a_id, party_b_id FROM {table} "  # noqa: S608
            "WHERE is_active = %s AND decision = %s AND party_a_id {ids}",
            sorted({a for a, _ in missing}),
            [True, "rejected"],
        )
    }
    missing = [pair for pair in missing if pair not in decided]
    records = match_records({pid for pair in missing for pid in pair})
    population_set(matcher)
    found = pair_scores(
        matcher, [((a, records[a]), (b, records[b])) for a, b in missing if a in records and b in records]
    )
    return np.concatenate([scores, found.astype(scores.dtype)]) if len(found) else scores


def clusters_of(matcher: dedupe.StaticDedupe, scores: np.ndarray, threshold: float) -> list:
    scores = scores_completed(matcher, groups_bounded(scores), threshold)
    return list(matcher.cluster(scores, threshold=threshold)) if len(scores) else []


def _pending_by_members(party_ids: list[int] | None) -> dict[frozenset[int], int]:
    """The pending suggestions a run covers (all of them for a full run; those naming one of
    ``party_ids`` for an incremental run), keyed by their set of members."""
    pending = MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    if party_ids is not None:
        covered: set[int] = set()
        for start in range(0, len(party_ids), 5000):
            covered.update(
                MatchSuggestionMember.objects.filter(
                    party_id__in=party_ids[start : start + 5000]
                ).values_list("suggestion_id", flat=True)
            )
        pending = pending.filter(pk__in=sorted(covered))
    members: dict[int, set[int]] = {}
    for suggestion_id, party_id in MatchSuggestionMember.objects.filter(
        suggestion__in=pending.values("pk")
    ).values_list("suggestion_id", "party_id"):
        members.setdefault(suggestion_id, set()).add(party_id)
    return {frozenset(ids): pk for pk, ids in members.items()}


def _rows_update(model, fields: Sequence[str], rows: Sequence, *, pending_only: bool = False) -> None:
    """Write ``fields`` of each row by primary key, as one executemany. (Django's bulk_update
    builds a CASE per field over every row of a batch: 5 s for 900 suggestions.)
    ``pending_only``: only rows still pending when the UPDATE reaches them (a steward's decision
    committed meanwhile keeps the evidence it was decided on)."""
    if not rows:
        return
    quote, meta = connection.ops.quote_name, model._meta
    columns = [meta.get_field(name) for name in fields]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from _meta
        quote(meta.db_table), ", ".join(f"{quote(c.column)} = %s" for c in columns), quote(meta.pk.column)
    )
    extra = [SuggestionStatus.PENDING.value] if pending_only else []
    if pending_only:
        sql += f" AND {quote(meta.get_field('status').column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                [c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk, *extra]
                for row in rows
            ],
        )


# What a run rewrites on a suggestion it finds again unchanged (its id, created_at, claim and
# queue position stay).
_KEPT_FIELDS = [
    "run",
    "score",
    "evidence",
    "size",
    "kind",
    "countries",
    "sources",
    "search_text",
    "risk",
    "risk_reasons",
]

BATCH = 2000  # clusters written together
# A batch of clusters ready to save: members, (member, score) pairs, the clusters' scores,
# evidence and values digests, one of each per cluster.
Prepared = tuple[list[list[int]], list[list[tuple[int, float]]], list[float], list[dict], list[str]]


def _batch_inputs(
    batch: Sequence,
) -> tuple[list[list[int]], list[list[tuple[int, float]]], list[float], list]:
    members = [[int(i) for i in ids] for ids, _ in batch]
    member_scores = [
        [(pid, float(score)) for pid, score in zip(ids, raw, strict=True)]
        for ids, (_, raw) in zip(members, batch, strict=True)
    ]
    scores = [float(np.min(raw)) for _, raw in batch]
    centers = [(ids, int(ids[int(np.argmax(raw))])) for ids, (_, raw) in zip(members, batch, strict=True)]
    return members, member_scores, scores, centers


def _batches_with_evidence(clusters: Sequence, weights: LevelWeights | None) -> Iterator[Prepared]:
    """Every batch of ``clusters`` with its evidence, in order. This process reads the
    members' records; the evidence (pure computation: ``matching.cluster_evidence``) of a large
    run is built in a pool of spawned processes while this one writes the batches before
    (profiled at 1,000,000 parties: 78 of the clustering phase's 263 s were evidence, on one
    core while the other worker idled). Spawned, not forked: a pool process starts without
    this process's database connection and never touches the database, so no two processes
    can ever share one connection. At most two batches per process are in flight."""
    batches = [clusters[start : start + BATCH] for start in range(0, len(clusters), BATCH)]
    processes = settings.C360_MATCHING_CLUSTER_PROCESSES
    if processes < 2 or len(clusters) < settings.C360_MATCHING_PARALLEL_MIN_CLUSTERS:
        for batch in batches:
            members, member_scores, scores, centers = _batch_inputs(batch)
            records = match_records({pid for ids in members for pid in ids})
            yield members, member_scores, scores, *evidences_build(records, centers, weights)
        return
    from billiard import get_context

    pool = get_context("spawn").Pool(processes)
    try:
        pending: deque = deque()
        for batch in batches:
            members, member_scores, scores, centers = _batch_inputs(batch)
            records = match_records({pid for ids in members for pid in ids})
            result = pool.apply_async(evidences_build, (records, centers, weights))
            pending.append((members, member_scores, scores, result))
            if len(pending) >= 2 * processes:
                members, member_scores, scores, result = pending.popleft()
                yield members, member_scores, scores, *result.get()
        while pending:
            members, member_scores, scores, result = pending.popleft()
            yield members, member_scores, scores, *result.get()
    finally:
        pool.terminate()
        pool.join()


@transaction.atomic
def suggestions_save(run: MatchRun, clusters: list, party_ids: list[int] | None = None) -> int:
    """Write the run's clusters as suggestions, covering the pending ones the run covers (all
    of them for a full run; those with one of its parties for an incremental run).

    A cluster whose members and data are those of a pending suggestion keeps that suggestion:
    its id, claim and place in the queue stay, and the run updates its score, evidence and
    facets in place (a steward's open review of it stays valid). Only a cluster that changed
    (other members, or a member's data changed) becomes a new suggestion; the covered pending
    suggestions no cluster kept are superseded. Returns the number of clusters."""
    existing = _pending_by_members(party_ids)
    weights = level_weights_of(run.model_id)
    kept: set[int] = set()
    now = timezone.now()
    for members, member_scores, scores, evidences, fresh in _batches_with_evidence(clusters, weights):
        facets = suggestion_facets(members, evidences)
        same = {i: existing[frozenset(ids)] for i, ids in enumerate(members) if frozenset(ids) in existing}
        # still pending (a steward may have decided one since the run read them): their digests,
        # not their evidence (matching.digests); one without (written before digests existed)
        # has its evidence read
        old = {
            pk: (values, content)
            for pk, values, content in MatchSuggestion.objects.filter(
                pk__in=list(same.values()), status=SuggestionStatus.PENDING
            ).values_list("pk", "values_digest", "content_digest")
        }
        unknown = [pk for pk, (values, _) in old.items() if not values]
        for pk, evidence in MatchSuggestion.objects.filter(pk__in=unknown).values_list("pk", "evidence"):
            old[pk] = (values_digest(evidence), "")
        contents = [
            content_digest(score, pairs, evidence, facet)
            for score, pairs, evidence, facet in zip(scores, member_scores, evidences, facets, strict=True)
        ]
        same = {i: pk for i, pk in same.items() if pk in old and old[pk][0] == fresh[i]}
        # Most kept suggestions are exactly as they were (same data, same model): only their run
        # changes, in one UPDATE; the others are rewritten row by row. A steward may decide one
        # between the read above and these writes: the UPDATEs touch only rows still pending
        # then (PostgreSQL re-checks the condition on the committed row).
        MatchSuggestion.objects.filter(pk__in=list(same.values()), status=SuggestionStatus.PENDING).update(
            run_id=run.pk
        )
        changed = [i for i, pk in same.items() if old[pk][1] != contents[i]]
        _rows_update(
            MatchSuggestion,
            [*_KEPT_FIELDS[1:], "values_digest", "content_digest"],
            [
                MatchSuggestion(
                    pk=same[i],
                    score=scores[i],
                    evidence=evidences[i],
                    values_digest=fresh[i],
                    content_digest=contents[i],
                    **facets[i],
                )
                for i in changed
            ],
            pending_only=True,
        )
        member_rows = {
            (sid, pid): (row, score)
            for sid, pid, row, score in (
                MatchSuggestionMember.objects.filter(
                    suggestion_id__in=[same[i] for i in changed]
                ).values_list("suggestion_id", "party_id", "pk", "score")
            )
        }
        _rows_update(
            MatchSuggestionMember,
            ["score"],
            [
                MatchSuggestionMember(pk=member_rows[same[i], pid][0], score=score)
                for i in changed
                for pid, score in member_scores[i]
                if (same[i], pid) in member_rows and member_rows[same[i], pid][1] != score
            ],
        )
        kept.update(same.values())
        new = [i for i in range(len(members)) if i not in same]
        pks = ids_allocate(MatchSuggestion, len(new))
        rows_insert(
            MatchSuggestion,
            [
                {
                    "id": pk,
                    "run_id": run.pk,
                    "score": scores[i],
                    "evidence": evidences[i],
                    "values_digest": fresh[i],
                    "content_digest": contents[i],
                    **facets[i],
                }
                for pk, i in zip(pks, new, strict=True)
            ],
            now=now,
        )
        rows_insert(
            MatchSuggestionMember,
            [
                {"suggestion_id": pk, "party_id": pid, "score": score}
                for pk, i in zip(pks, new, strict=True)
                for pid, score in member_scores[i]
            ],
            now=now,
        )
    gone = sorted(set(existing.values()) - kept)
    for start in range(0, len(gone), 5000):
        MatchSuggestion.objects.filter(
            pk__in=gone[start : start + 5000], status=SuggestionStatus.PENDING
        ).update(status=SuggestionStatus.SUPERSEDED)
    suggestions_close_for_inactive()
    return len(clusters)


def suggestions_close_for_inactive(
    party_ids: Iterable[int] | None = None, *, exclude: Iterable[int] = ()
) -> int:
    """Close pending suggestions that name a party that is no longer active (merged away
    or deleted). Called at the end of every run and by every merge."""
    inactive = Party.objects.exclude(status=PartyStatus.ACTIVE)
    if party_ids is not None:
        inactive = inactive.filter(pk__in=list(party_ids))
    stale = (
        MatchSuggestion.objects.filter(
            status=SuggestionStatus.PENDING, members__party__in=inactive.values("pk")
        )
        .exclude(pk__in=list(exclude))
        .distinct()
    )
    return MatchSuggestion.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).update(
        status=SuggestionStatus.CLOSED
    )
