"""What the data itself says about matches, before any label: the pairs the classifier's
expectation-maximization step learns from (``matching.classifier.EvidenceClassifier.prepare``).

A sample of the active parties (all of them up to ``C360_MATCHING_EM_SAMPLE``) is flattened as
runs flatten them; the candidate pairs of the standard blocking rules among them are where
matches are (EM estimates how matches and non-matches compare there), and random pairs of
them are what two different customers look like (``u``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from matching.rules import STANDARD_RULES, record_keys
from matching.selectors import party_records
from matching.services.scoring import record_distances
from parties.models import Party

CANDIDATE_PAIRS = 200_000
SESSION_PAIRS = 50_000
RANDOM_PAIRS = 100_000


@dataclass(frozen=True)
class EvidenceSample:
    parties: int  # in the sample
    population: int  # active parties in the database
    sessions: dict[str, tuple[np.ndarray, tuple[str, ...]]]  # rule → (distances, fixed comparisons)
    candidates: np.ndarray  # a sample of the union of the rules' pairs (distances)
    candidates_total: int
    pairs_total: int
    random_pairs: np.ndarray


def sample_records(limit: int, rng: random.Random) -> tuple[dict[int, dict], int]:
    """Up to ``limit`` random active parties, flattened, and how many there are in all."""
    ids = list(Party.objects.active().filter(erased_at__isnull=True).values_list("pk", flat=True))
    population = len(ids)
    if len(ids) > limit:
        ids = rng.sample(ids, limit)
    records: dict[int, dict] = {}
    for start in range(0, len(ids), 5000):
        records.update(party_records(ids[start : start + 5000]))
    return records, population


def rule_pairs(records: dict[int, dict], max_block: int) -> dict[str, set[tuple[int, int]]]:
    """Per standard rule, the pairs of records sharing one of its keys (blocks of at most
    ``max_block`` records, as in runs)."""
    blocks: dict[str, list[int]] = {}
    for pid, record in records.items():
        for key in record_keys(record):
            blocks.setdefault(key, []).append(pid)
    pairs: dict[str, set[tuple[int, int]]] = {rule.code: set() for rule in STANDARD_RULES}
    for key, members in blocks.items():
        if 1 < len(members) <= max_block:
            members = sorted(members)
            pairs[key[1:].split(":", 1)[0]].update(
                (a, b) for i, a in enumerate(members) for b in members[i + 1 :]
            )
    return pairs


def evidence_sample(
    data_model, classifier, *, limit: int | None = None, seed: int | None = None
) -> EvidenceSample:
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    records, population = sample_records(limit or settings.C360_MATCHING_EM_SAMPLE, rng)

    def distances(pairs) -> np.ndarray:
        return record_distances(data_model, classifier, [(records[a], records[b]) for a, b in pairs])

    by_rule = rule_pairs(records, settings.C360_MATCHING_MAX_BLOCK)
    sessions = {}
    for rule in STANDARD_RULES:
        pairs = sorted(by_rule[rule.code])
        if len(pairs) > SESSION_PAIRS:
            pairs = rng.sample(pairs, SESSION_PAIRS)
        sessions[rule.code] = (distances(pairs), rule.fixes)
    union = sorted(set().union(*by_rule.values()))
    total = len(union)
    if len(union) > CANDIDATE_PAIRS:
        union = rng.sample(union, CANDIDATE_PAIRS)
    ids = list(records)
    randoms = []
    if len(ids) > 1:
        for _ in range(min(RANDOM_PAIRS, len(ids) * (len(ids) - 1) // 2)):
            randoms.append(tuple(rng.sample(ids, 2)))
    return EvidenceSample(
        parties=len(records),
        population=population,
        sessions=sessions,
        candidates=distances(union),
        candidates_total=total,
        pairs_total=len(ids) * (len(ids) - 1) // 2,
        random_pairs=distances(randoms),
    )
