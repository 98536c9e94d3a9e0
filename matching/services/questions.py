"""The training page's questions: the pairs the matcher is least sure about.

dedupe's active learner (``prepare_training``) needed 50 s and more on the demo data at every
refresh: it samples 10,000 pairs weighted by the cover of every blocking predicate, computes
every variable's distances for them and indexes them, and then asks what its *own* logistic
regression over those distances is unsure of. The pairs are scored here by the classifier that
scores the runs (``matching.classifier.EvidenceClassifier``), so its uncertainty is the one
the answers reduce, in a few seconds:

1. **A pool of pairs**: source records (all of them, or a random sample of
   ``QUESTION_RECORDS``) paired when they share a key of a standard blocking rule
   (``matching.rules``) or a looser *question key* (same family name, same birth date, same
   street, same phone's last digits, same email name): those find the hard cases, a match with
   a typo here and there and two people with one name or one address. Pairs judged or waiting
   already, and records of one party (decided), are left out.
2. **A classifier**: the active model's, refitted on today's labels; before any model, one
   whose weights are estimated on the pool itself (EM, as in training) and fitted on whatever
   labels there are.
3. **The questions**: the pairs whose score is closest to 0.5, at most one per pattern of
   comparison levels and per record (an answer teaches about every pair that compares alike),
   with at least a third on each side of 0.5 when the pool has them. While training still
   lacks the minimum of matches or of distincts, first a few pairs the classifier is fairly
   sure are of that kind: answers near 0.5 can all go one way, and training needs both.
"""

from __future__ import annotations

import copy
import logging
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import dedupe
import numpy as np
from django.db.models import Count

from matching.classifier import EvidenceClassifier, columns_of
from matching.comparisons import COMPARISONS, NAME_SEPARATOR, _fold
from matching.fields import source_record_record, variables
from matching.models import Label, MatcherModel, TrainingLabel, TrainingPair
from matching.rules import STANDARD_RULES, record_keys
from matching.services.scoring import record_distances
from matching.services.training import MIN_DISTINCT_LABELS, MIN_MATCH_LABELS
from parties.models import SourceRecord

logger = logging.getLogger(__name__)

QUESTION_RECORDS = 20_000  # source records in the pool; a random sample beyond
QUESTION_PAIRS = 40_000  # pairs scored at most (a random sample beyond)
QUESTION_MAX_BLOCK = 30  # a key shared by more records pairs a random 30 of them
EM_RANDOM_PAIRS = 20_000  # random pairs for u when no model is trained yet
MIN_SIDE_SHARE = 1 / 3  # of the questions, at least this share on each side of 0.5
BOOTSTRAP_SCORE = 0.8  # "fairly sure", for the first labels of a kind (see _choose)


@dataclass(frozen=True)
class Question:
    record_a: int  # source record ids, smaller first
    record_b: int
    score: float  # the classifier's probability that they are one customer
    levels: tuple[int, ...]  # each comparison's level (-1: missing)

    @property
    def uncertainty(self) -> float:
        """Distance from 0.5: smaller is less sure, asked first."""
        return abs(self.score - 0.5)


@dataclass(frozen=True)
class Pool:
    records: dict[int, dict]  # source record id → flat record
    population: int  # source records in the database
    rule_pairs: dict[str, set[tuple[int, int]]]  # standard rule code → pairs (for EM)
    pairs: list[tuple[int, int]]  # every pair to score


def _question_keys(record: dict) -> Iterator[str]:
    """Looser than the standard rules, for the hard cases; blocks are sampled down."""
    given_family = record.get("name") or ""
    family = _fold(given_family.partition(NAME_SEPARATOR)[2])
    if family:
        yield f"?f:{family}"
    if record.get("birth_date"):
        yield f"?b:{record['birth_date']}"
    if record.get("address_line1"):
        yield f"?a:{record['address_line1']}|{record.get('postal_code') or record.get('city') or ''}"
    for phone in record.get("phones") or ():
        digits = "".join(c for c in phone if c.isdigit())
        if len(digits) >= 8:
            yield f"?p:{digits[-8:]}"
    for email in record.get("emails") or ():
        local = email.partition("@")[0]
        if len(local) >= 4:
            yield f"?e:{local}"


def question_pool(*, limit: int, rng: random.Random, skip: set[tuple[int, int]]) -> Pool:
    """The pairs to choose questions from (see the module docstring), none of them in ``skip``."""
    records_qs = SourceRecord.objects.filter(party__erased_at__isnull=True)
    ids = list(records_qs.values_list("pk", flat=True))
    population = len(ids)
    rows: list[tuple[int, int, dict]] = []
    if len(ids) > limit:
        ids = sorted(rng.sample(ids, limit))
        for start in range(0, len(ids), 5000):
            rows += records_qs.filter(pk__in=ids[start : start + 5000]).values_list(
                "pk", "party_id", "standardized"
            )
    else:
        rows = list(records_qs.values_list("pk", "party_id", "standardized").iterator(chunk_size=2000))
    records = {pk: source_record_record(standardized) for pk, _, standardized in rows}
    party = {pk: party_id for pk, party_id, _ in rows}
    blocks: dict[str, list[int]] = {}
    for pk, record in records.items():
        for key in (*record_keys(record), *_question_keys(record)):
            blocks.setdefault(key, []).append(pk)
    rule_pairs: dict[str, set[tuple[int, int]]] = {rule.code: set() for rule in STANDARD_RULES}
    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        if len(members) > QUESTION_MAX_BLOCK:
            members = rng.sample(members, QUESTION_MAX_BLOCK)
        members = sorted(members)
        found = {(a, b) for i, a in enumerate(members) for b in members[i + 1 :] if party[a] != party[b]}
        if key.startswith("~"):
            rule_pairs[key[1:].split(":", 1)[0]] |= found
        pairs |= found
    pairs -= skip
    chosen = sorted(pairs)
    if len(chosen) > QUESTION_PAIRS:
        chosen = sorted(rng.sample(chosen, QUESTION_PAIRS))
    return Pool(records, population, rule_pairs, chosen)


def _label_pairs(records: dict[int, dict]) -> tuple[list[tuple[dict, dict]], np.ndarray]:
    """The stored match/distinct labels as flat record pairs, and 1/0 for each."""
    pairs, y = [], []
    for label in TrainingLabel.objects.exclude(label=Label.UNSURE).select_related("record_a", "record_b"):
        a = records.get(label.record_a_id) or source_record_record(label.record_a.standardized)
        b = records.get(label.record_b_id) or source_record_record(label.record_b.standardized)
        pairs.append((a, b))
        y.append(1 if label.label == Label.MATCH else 0)
    return pairs, np.array(y)


def _active_classifier():
    """(data model, a copy of the active model's classifier), or None without a usable one."""
    from matching.services.blocking import matcher_load

    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None:
        return None
    try:
        matcher = matcher_load(model)
    except Exception:  # noqa: BLE001 - an old or foreign blob: estimate afresh instead
        logger.warning("model v%s cannot be loaded for the training questions", model.pk, exc_info=True)
        return None
    if not isinstance(matcher.classifier, EvidenceClassifier):
        return None
    return matcher.data_model, copy.deepcopy(matcher.classifier)


def _pool_classifier(pool: Pool, rng: random.Random, matches: list[tuple[dict, dict]]):
    """(data model, a classifier whose weights EM estimated on the pool), as training does on
    the parties (``matching.services.evidence``) but smaller: no model is trained yet."""
    data_model = dedupe.Dedupe(variables(), num_cores=1).data_model
    classifier = EvidenceClassifier(columns_of(data_model, COMPARISONS))

    def distances(pairs):
        return record_distances(
            data_model, classifier, [(pool.records[a], pool.records[b]) for a, b in pairs]
        )

    sessions = {}
    for rule in STANDARD_RULES:
        sessions[rule.code] = (distances(sorted(pool.rule_pairs[rule.code])), rule.fixes)
    union = sorted(set().union(*pool.rule_pairs.values()))
    ids = list(pool.records)
    n = len(ids)
    randoms = (
        [tuple(rng.sample(ids, 2)) for _ in range(min(EM_RANDOM_PAIRS, n * (n - 1) // 2))] if n > 1 else []
    )
    classifier.prepare(
        sessions,
        distances(union),
        distances(randoms),
        candidates_total=len(union),
        pairs_total=max(n * (n - 1) // 2, 1),
        parties=n,
        matches=record_distances(data_model, classifier, matches),
    )
    return data_model, classifier


def question_classifier(pool: Pool, rng: random.Random):
    """(data model, classifier) to score the pool with: see the module docstring, step 2."""
    labelled, y = _label_pairs(pool.records)
    found = _active_classifier()
    if found is None:
        found = _pool_classifier(pool, rng, [p for p, label in zip(labelled, y, strict=True) if label])
    data_model, classifier = found
    classifier.parties = pool.population  # the prior of the database the pairs come from
    if len(y) and 0 < y.sum() < len(y):  # both kinds: refine the weights as training would
        classifier.fit(record_distances(data_model, classifier, labelled), y)
    return data_model, classifier


def _choose(
    questions: list[Question], count: int, *, need_match: int = 0, need_distinct: int = 0
) -> list[Question]:
    """The ``count`` least sure, one per level pattern and per record while there are enough,
    at least ``MIN_SIDE_SHARE`` of them on each side of 0.5; ordered least sure first. Before
    them, while training still lacks labels of a kind, ``need_match`` + 1 pairs the classifier
    is surest are one customer and ``need_distinct`` + 1 surest are two (pool pairs share a
    key: "same family name, clearly another person"): the answers near 0.5 can all go one
    way (8 of the first 10 on FEBRL1), and training cannot start without both kinds."""
    ranked = sorted(questions, key=lambda q: (q.uncertainty, q.record_a, q.record_b))
    chosen: list[Question] = []
    taken: set[tuple[int, int]] = set()

    def pick(candidates, limit, diverse):
        patterns = {q.levels for q in chosen}
        records = {r for q in chosen for r in (q.record_a, q.record_b)}
        for q in candidates:
            if len(chosen) >= limit:
                return
            key = (q.record_a, q.record_b)
            if key in taken or (
                diverse and (q.levels in patterns or q.record_a in records or q.record_b in records)
            ):
                continue
            chosen.append(q)
            taken.add(key)
            patterns.add(q.levels)
            records.update(key)

    sure = sorted(questions, key=lambda q: (-q.score, q.record_a, q.record_b))
    likely_distinct = [q for q in reversed(sure) if q.score <= 1 - BOOTSTRAP_SCORE]
    for wanted, candidates in (
        (need_match, [q for q in sure if q.score >= BOOTSTRAP_SCORE]),
        (need_distinct, likely_distinct),
    ):
        limit = min(len(chosen) + wanted + (1 if wanted else 0), count)  # one spare: a guess can be wrong
        for diverse in (True, False):  # the kinds of labels training still lacks, surest first
            pick(candidates, limit, diverse)
    bootstrap = len(chosen)
    side = math.ceil(count * MIN_SIDE_SHARE) if count > 1 else 0
    pick([q for q in ranked if q.score >= 0.5], min(len(chosen) + side, count), diverse=True)
    pick([q for q in ranked if q.score < 0.5], min(len(chosen) + side, count), diverse=True)
    for diverse in (True, False):  # then the least sure of all
        pick(ranked, count, diverse)
    return [
        *chosen[:bootstrap],
        *sorted(chosen[bootstrap:], key=lambda q: (q.uncertainty, q.record_a, q.record_b)),
    ]


def training_questions(
    *, count: int, sample_size: int | None = None, seed: int | None = None
) -> list[Question]:
    """The ``count`` pairs the matcher would most like a steward to judge, least sure first:
    never a pair already judged or waiting, never twice the same pair (see the module
    docstring). Fewer, or none, when the data has no more."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    skip = set(TrainingLabel.objects.values_list("record_a_id", "record_b_id"))
    skip |= set(TrainingPair.objects.values_list("record_a_id", "record_b_id"))
    pool = question_pool(limit=sample_size or QUESTION_RECORDS, rng=rng, skip=skip)
    if not pool.pairs or count < 1:
        return []
    data_model, classifier = question_classifier(pool, rng)
    X = record_distances(data_model, classifier, [(pool.records[a], pool.records[b]) for a, b in pool.pairs])
    scores = classifier.predict_proba(X)[:, 1]
    levels = classifier.levels(X)
    questions = [
        Question(a, b, float(s), tuple(int(x) for x in row))
        for (a, b), s, row in zip(pool.pairs, scores, levels, strict=True)
    ]
    kinds = dict(TrainingLabel.objects.values_list("label").annotate(n=Count("pk")))
    return _choose(
        questions,
        count,
        need_match=max(0, MIN_MATCH_LABELS - kinds.get(Label.MATCH, 0)),
        need_distinct=max(0, MIN_DISTINCT_LABELS - kinds.get(Label.DISTINCT, 0)),
    )
