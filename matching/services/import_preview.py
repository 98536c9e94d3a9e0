"""What the matcher would do with the customers an import would create (its preview).

Called by the import's preview inside its transaction, which is rolled back afterwards: the
new customers are fingerprinted into the block-key table and scored against everyone the way
an incremental run scores changed parties (``runs.chunk_execute``: the same candidate pairs,
pair budget, drop line and clustering at the review threshold), then counted, not saved. A
new customer in a cluster scoring at or above the auto-merge threshold would be merged
automatically; in any other cluster, queued for review; in none, left alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from c360.kernel.perf import fewer_gc_passes
from matching.models import BlockKey, MatcherModel, MatchSettings
from matching.selectors import match_records
from matching.services.blocking import block_keys_write, blocks_prepare
from matching.services.runs import INCREMENTAL_CHUNK, _matcher
from matching.services.scoring import DROP_SCORES_AT_OR_BELOW, candidate_pairs, pair_scores, population_set
from matching.services.suggestions import clusters_of


def _scores(matcher, ids: list[int]) -> np.ndarray:
    parts = []
    for start in range(0, len(ids), INCREMENTAL_CHUNK):
        chunk = ids[start : start + INCREMENTAL_CHUNK]
        candidates = candidate_pairs(chunk[0], chunk[-1], changed=ids)
        for pairs in candidates.batches():
            records = match_records({pid for pair in pairs for pid in pair})
            known = [((a, records[a]), (b, records[b])) for a, b in pairs if a in records and b in records]
            if known:
                scores = pair_scores(matcher, known)
                parts.append(scores[scores["score"] > DROP_SCORES_AT_OR_BELOW])
    if not parts:
        return np.empty(0, dtype=[("pairs", "i8", 2), ("score", "f4")])
    return np.concatenate(parts)


def import_preview_assess(party_ids: Sequence[int]) -> dict[str, Any]:
    """``assessed``, and ``auto_merge``, ``review``, ``alone`` (how many of ``party_ids``) or
    ``reason``. ``party_ids`` are parties created inside the caller's transaction; their block
    keys and stored records are written there, so only inside a transaction that is rolled
    back (``parties.extensions.import_preview_assess``)."""
    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None:
        return {"assessed": False, "reason": "no trained matcher model yet: train the matcher first"}
    if not BlockKey.objects.exists():
        return {
            "assessed": False,
            "reason": "the matcher has not indexed the existing customers yet: run a full match first",
        }
    settings = MatchSettings.current()
    ids = sorted(set(party_ids))
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.monotonic()
        seconds[phase], clock = round(now - clock, 2), now

    with fewer_gc_passes():
        matcher = _matcher(model.pk)
        # fresh: parties created in this very transaction have no keys or records to replace
        block_keys_write(matcher, ids, fresh=True)
        lap("fingerprinting")
        blocks_prepare(full=False, party_ids=ids)
        population_set(matcher)
        lap("blocks")
        scores = _scores(matcher, ids)
        lap("scoring")
        clusters = clusters_of(matcher, scores, settings.review_threshold)
        lap("clustering")
    new = set(ids)
    auto = review = 0
    for members, member_scores in clusters:
        mine = sum(1 for pid in members if int(pid) in new)
        if not mine:
            continue
        if (
            settings.auto_merge_threshold is not None
            and float(np.min(member_scores)) >= settings.auto_merge_threshold
        ):
            auto += mine
        else:
            review += mine
    return {
        "assessed": True,
        "auto_merge": auto,
        "review": review,
        "alone": len(ids) - auto - review,
        "review_threshold": settings.review_threshold,
        "auto_merge_threshold": settings.auto_merge_threshold,
        "model": model.pk,
        "seconds": seconds,
    }
