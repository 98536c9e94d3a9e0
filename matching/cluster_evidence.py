"""A suggestion's evidence, from its members' flat records: pure computation, no database.

Kept free of Django so that a large run's clustering phase can build evidence in spawned
processes (``matching.services.suggestions.suggestions_save``): a spawned process starts
without this process's database connection, so it can never share it, and this module is all
it imports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from matching.comparisons import COMPARISONS, SIGNALS, compare_records
from matching.digests import values_digest
from matching.fields import FIELDS

ALL_PAIRS_UP_TO = 8  # members; a larger cluster stores each member against its best-scored one

LevelWeights = Mapping[str, Sequence[float]]

_LEVEL_WORDS = {c.name: c.levels for c in COMPARISONS}


def pair_evidence(
    a: int, b: int, record_a: dict, record_b: dict, weights: LevelWeights | None = None
) -> dict:
    """How two members compare: each comparison's level in words (missing values left out),
    with the log-odds the model adds for it when ``weights`` (``level_weights()``) are given,
    the signals that fired, and whether they look like two people of one household."""
    levels = compare_records(record_a, record_b)
    comparisons, fired = {}, []
    for name, level in levels.items():
        if math.isnan(level):
            continue
        index = int(level)
        item: dict = {"level": _LEVEL_WORDS[name][index]}
        if (
            weights is not None and name in weights and index < len(weights[name])
        ):  # (a level newer than the model)
            item["weight"] = round(float(weights[name][index]), 2)
        comparisons[name] = item
        if (name, index) in SIGNALS:
            fired.append(SIGNALS[name, index])
    return {
        "parties": [a, b],
        "comparisons": comparisons,
        "signals": fired,
        "household": levels.get("cmp:household") == 0,
    }


def member_pairs(members: Sequence[int], center: int | None = None) -> list[tuple[int, int]]:
    """Every pair of a cluster of up to ``ALL_PAIRS_UP_TO`` members; each member against
    ``center`` (else the first) in a larger one."""
    if len(members) <= ALL_PAIRS_UP_TO:
        return list(combinations(members, 2))
    hub = center if center is not None and center in members else members[0]
    return [(hub, other) for other in members if other != hub]


def evidence_build(
    records: Mapping[int, dict],
    members: Sequence[int],
    weights: LevelWeights | None,
    center: int | None = None,
) -> dict:
    """Per field: each member's value and whether they agree (same, partial, overlap,
    different, missing). Under ``"pairs"``: per pair of members (``member_pairs``), the
    comparisons' levels, signals and, with ``weights``, each comparison's contribution to the
    score."""
    evidence: dict[str, Any] = {}
    for field in FIELDS:
        values = {
            str(pid): (
                list(records[pid][field]) if isinstance(records[pid][field], tuple) else records[pid][field]
            )
            for pid in members
            if pid in records
        }
        present = [v for v in values.values() if v]
        if not present:
            agreement = "missing"
        elif isinstance(present[0], list):
            shared = set(present[0]).intersection(*map(set, present[1:]))
            agreement = (
                "same" if shared and len(present) == len(values) else ("overlap" if shared else "different")
            )
        else:
            agreement = (
                "same"
                if len(set(present)) == 1 and len(present) == len(values)
                else ("partial" if len(set(present)) == 1 else "different")
            )
        evidence[field] = {"agreement": agreement, "values": values}
    found = [pid for pid in members if pid in records]
    evidence["pairs"] = [
        pair_evidence(a, b, records[a], records[b], weights) for a, b in member_pairs(found, center)
    ]
    return evidence


def evidences_build(
    records: Mapping[int, dict],
    clusters: Sequence[tuple[Sequence[int], int | None]],
    weights: LevelWeights | None,
) -> tuple[list[dict], list[str]]:
    """``evidence_build`` of each ``(members, center)`` and its values digest (what a pool
    process returns for a batch of clusters)."""
    evidences = [evidence_build(records, members, weights, center) for members, center in clusters]
    return evidences, [values_digest(evidence) for evidence in evidences]
