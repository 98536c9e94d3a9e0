"""Clustering stays bounded: oversized connected groups are split before dedupe's cluster()."""

from __future__ import annotations

import numpy as np

from matching.services.suggestions import groups_bounded


def _scores(rows: list[tuple[int, int, float]]) -> np.ndarray:
    scores = np.empty(len(rows), dtype=[("pairs", "i8", 2), ("score", "f4")])
    for i, (a, b, score) in enumerate(rows):
        scores[i] = ((a, b), score)
    return scores


def test_a_long_weak_chain_is_cut_and_strong_pairs_survive():
    chain = [(i, i + 1, 0.3) for i in range(1, 10)]  # ten parties chained by weak scores
    strong = [(3, 4, 0.9), (20, 21, 0.35), (21, 22, 0.35)]  # a small weak group is left alone
    scores = _scores([*chain[:2], *chain[3:], *strong])
    bounded = groups_bounded(scores, max_group=4)
    kept = {tuple(pair) for pair in bounded["pairs"]}
    assert (3, 4) in kept and {(20, 21), (21, 22)} <= kept
    assert not any(
        score <= 0.3 and pair[0] < 20 for pair, score in zip(bounded["pairs"], bounded["score"], strict=True)
    )


def test_small_groups_are_untouched():
    scores = _scores([(1, 2, 0.25), (2, 3, 0.4), (5, 6, 0.9)])
    assert len(groups_bounded(scores, max_group=3)) == 3
