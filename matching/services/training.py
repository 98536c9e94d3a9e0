"""Training labels and the learned model.

Labels are stored per source-record pair (see ``TrainingLabel``); the model is trained from
all of them and stored as a new version. dedupe runs with ``num_cores=1``: its own
multiprocessing cannot start inside Celery's worker processes, so parallel work goes
through Celery chunks instead.
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

import dedupe
from django.conf import settings
from django.db import transaction
from django.db.models import Count

from matching.classifier import EvidenceClassifier, columns_of
from matching.comparisons import COMPARISONS, compare_records
from matching.fields import source_record_record, variables
from matching.models import Label, LabelOrigin, MatcherModel, TrainingLabel
from matching.services.evidence import evidence_sample
from matching.services.scoring import record_distances
from parties.models import SourceRecord, SourceSystem

# The classifier learns its weights from the data itself (matching.classifier); labels refine
# them and teach dedupe its blocking predicates, for which a few matches are enough.
MIN_MATCH_LABELS = 3
MIN_DISTINCT_LABELS = 3
# Records sampled for learning blocking predicates, with every labelled record: how many pairs
# each predicate makes among them is what dedupe weighs a predicate's cost by. (dedupe's own
# prepare_training grew fast with it: 20 GB for 5,000 person records seen here.)
TRAINING_SAMPLE = settings.C360_MATCHING_SAMPLE
LABEL_FILE_HEADER = ["source_a", "key_a", "source_b", "key_b", "label"]


class TooFewLabels(ValueError):
    pass


class LabelFileError(ValueError):
    """The label file cannot be used; nothing was stored. ``errors`` says what and where."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "; ".join(errors[:10]) + (f"; … {len(errors) - 10} more" if len(errors) > 10 else "")
        super().__init__(f"{len(errors)} problem(s), nothing was stored: {shown}")


def label_set(
    *,
    record_a: SourceRecord,
    record_b: SourceRecord,
    label: str,
    origin: str = LabelOrigin.TRAINING,
    user=None,
) -> TrainingLabel:
    """Store (or change) the label of a pair; the latest judgement of a pair wins."""
    if record_a.pk == record_b.pk:
        raise ValueError("a record cannot be labelled against itself")
    if label not in Label.values:
        raise ValueError(f"unknown label {label!r}; use one of {', '.join(Label.values)}")
    first, second = sorted([record_a, record_b], key=lambda r: r.pk)
    labelled, _ = TrainingLabel.objects.update_or_create(
        record_a=first, record_b=second, defaults={"label": label, "origin": origin, "labelled_by": user}
    )
    return labelled


@dataclass(frozen=True)
class LabelImport:
    stored: int
    match: int
    distinct: int


def labels_import(*, handle: TextIO, user=None) -> LabelImport:
    """Load ``source_a,key_a,source_b,key_b,label`` lines (label: match or distinct). Every
    line is checked first; one bad line and nothing is stored."""
    reader = csv.reader(handle)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != LABEL_FILE_HEADER:
        raise LabelFileError(
            [f"line 1: the header must be {','.join(LABEL_FILE_HEADER)}, not {','.join(header) or 'empty'}"]
        )
    sources = {s.name: s for s in SourceSystem.objects.all()}
    errors: list[str] = []
    wanted: list[tuple[int, str, str, str, str, str]] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 5:
            errors.append(f"line {line}: expected 5 fields, found {len(row)}")
            continue
        source_a, key_a, source_b, key_b, label = (cell.strip() for cell in row)
        if label.lower() not in (Label.MATCH, Label.DISTINCT):
            errors.append(f"line {line}, column label: {label!r} is not 'match' or 'distinct'")
            continue
        for column, name in (("source_a", source_a), ("source_b", source_b)):
            if name not in sources:
                errors.append(f"line {line}, column {column}: no source system named {name!r}")
        wanted.append((line, source_a, key_a, source_b, key_b, label.lower()))
    records = _records_for(sources, wanted)
    pairs = []
    for line, source_a, key_a, source_b, key_b, label in wanted:
        a, b = records.get((source_a, key_a)), records.get((source_b, key_b))
        if source_a in sources and a is None:
            errors.append(f"line {line}, column key_a: {source_a!r} has no record {key_a!r}")
        if source_b in sources and b is None:
            errors.append(f"line {line}, column key_b: {source_b!r} has no record {key_b!r}")
        if a is not None and b is not None:
            if a.pk == b.pk:
                errors.append(f"line {line}: both sides are the same record")
            else:
                pairs.append((a, b, label))
    if errors:
        errors.sort(key=lambda message: int(message.split()[1].rstrip(",:")))  # in line order
        raise LabelFileError(errors)
    with transaction.atomic():
        for a, b, label in pairs:
            label_set(record_a=a, record_b=b, label=label, origin=LabelOrigin.FILE, user=user)
    return LabelImport(
        len(pairs), sum(p[2] == Label.MATCH for p in pairs), sum(p[2] == Label.DISTINCT for p in pairs)
    )


def _records_for(sources: dict[str, SourceSystem], wanted: Iterable[tuple]) -> dict:
    keys: dict[int, set[str]] = {}
    for _, source_a, key_a, source_b, key_b, _label in wanted:
        for name, key in ((source_a, key_a), (source_b, key_b)):
            if name in sources:
                keys.setdefault(sources[name].pk, set()).add(key)
    names = {s.pk: name for name, s in sources.items()}
    found = {}
    for source_id, source_keys in keys.items():
        for record in SourceRecord.objects.filter(source_system_id=source_id, source_key__in=source_keys):
            found[(names[source_id], record.source_key)] = record
    return found


def label_counts() -> tuple[int, int]:
    counts = dict(TrainingLabel.objects.values_list("label").annotate(n=Count("pk")))
    return counts.get(Label.MATCH, 0), counts.get(Label.DISTINCT, 0)


def labels_check() -> tuple[int, int]:
    """The label counts, or ``TooFewLabels`` naming the minimum when training cannot start."""
    matches, distincts = label_counts()
    if matches < MIN_MATCH_LABELS or distincts < MIN_DISTINCT_LABELS:
        raise TooFewLabels(
            f"training needs at least {MIN_MATCH_LABELS} 'match' and {MIN_DISTINCT_LABELS} "
            f"'distinct' labels; there are {matches} and {distincts}. Label more pairs on the "
            "training page or load a list with import_labels."
        )
    return matches, distincts


# What makes a "distinct" label teach something: the two records share a name, a birth date or
# an address (matching.comparisons levels), so the answer "another person" is not obvious.
HARD_DISTINCT_LEVELS = {"cmp:family": 0, "cmp:organization": 1, "cmp:birth": 0, "cmp:address": 2}
EASY_LABELS_NOTE = (
    "All {n} 'distinct' labels are pairs with nothing in common: they teach the matcher little. "
    "Answer the questions on the training page (hard cases: same name, another person) to "
    "complete them."
)


def distinct_is_hard(a: dict, b: dict) -> bool:
    """Two flat records labelled "distinct" that share a family name, an organization, a birth
    date or an address (street with at most a small difference): a case worth learning from."""
    levels = compare_records(a, b)
    return any(
        levels[name] <= top for name, top in HARD_DISTINCT_LEVELS.items() if not math.isnan(levels[name])
    )


def label_notes(distinct_pairs: list[tuple[dict, dict]]) -> list[dict]:
    """What training should say about its labels: today, only that every "distinct" label is
    easy (random distincts teach little; the data's own weights carry such a model)."""
    if distinct_pairs and not any(distinct_is_hard(a, b) for a, b in distinct_pairs):
        return [{"code": "easy_distincts", "text": EASY_LABELS_NOTE.format(n=len(distinct_pairs))}]
    return []


class _Phases:
    """Seconds spent per phase of training, stored on the model."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = time.monotonic()

    def __call__(self, name: str, function, *args, **kwargs):
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.monotonic() - started, 2)

    def total(self) -> float:
        return time.monotonic() - self.started


def matcher_train(*, user=None, sample_size: int | None = None) -> MatcherModel:
    """Train dedupe from every stored label and store the result as the active model (the
    previous one is kept for rollback), with notes on the labels (``label_notes``) and the
    seconds of each phase. Raises ``TooFewLabels`` naming the minimum."""
    matches, distincts = labels_check()
    phases = _Phases()
    data, labels = phases("records", _learner_data, sample_size or TRAINING_SAMPLE)
    deduper = dedupe.Dedupe(variables(), num_cores=1)
    index_predicates = settings.C360_MATCHING_INDEX_PREDICATES
    deduper.active_learner = phases(
        "blocking_sample",
        PredicateLearner,
        deduper.data_model.predicates,
        data,
        index_predicates=index_predicates,
    )
    labelled = _labelled_pairs(data, labels)
    deduper.mark_pairs({"match": labelled[Label.MATCH], "distinct": labelled[Label.DISTINCT]})
    classifier = EvidenceClassifier(columns_of(deduper.data_model, COMPARISONS))
    evidence = phases("evidence_sample", evidence_sample, deduper.data_model, classifier)
    phases(
        "weights_from_data",
        classifier.prepare,
        evidence.sessions,
        evidence.candidates,
        evidence.random_pairs,
        candidates_total=evidence.candidates_total,
        pairs_total=evidence.pairs_total,
        parties=evidence.population,
        matches=record_distances(deduper.data_model, classifier, labelled[Label.MATCH]),
    )
    # dedupe's Classifier protocol has fit() return None; ours returns itself as scikit-learn's
    # do (dedupe ignores the result)
    deduper.classifier = classifier  # type: ignore[assignment]
    phases("labels_and_predicates", deduper.train, index_predicates=index_predicates)
    buffer = io.BytesIO()
    deduper.write_settings(buffer)
    notes = label_notes(labelled[Label.DISTINCT])
    with transaction.atomic():
        MatcherModel.objects.filter(is_active=True).update(is_active=False)
        return MatcherModel.objects.create(
            settings_blob=buffer.getvalue(),
            labels_match=matches,
            labels_distinct=distincts,
            training_seconds=phases.total(),
            phase_seconds=phases.seconds,
            notes=notes,
            trained_by=user,
            is_active=True,
        )


def _learner_data(sample_size: int) -> tuple[dict[str, dict], list[TrainingLabel]]:
    """Records for learning blocking predicates, keyed ``r<source record id>`` with the id
    inside (dedupe ignores fields it does not compare), plus the stored labels."""
    labels = list(TrainingLabel.objects.exclude(label=Label.UNSURE).select_related("record_a", "record_b"))
    data = {
        f"r{r.pk}": {**source_record_record(r.standardized), "record_id": r.pk}
        for label in labels
        for r in (label.record_a, label.record_b)
    }
    others = list(
        SourceRecord.objects.exclude(pk__in=[int(k[1:]) for k in data]).values_list("pk", flat=True)[:50_000]
    )
    sample = random.Random().sample(others, min(len(others), sample_size))  # noqa: S311
    for pk, standardized in (
        SourceRecord.objects.filter(pk__in=sample).values_list("pk", "standardized").iterator(chunk_size=2000)
    ):
        data[f"r{pk}"] = {**source_record_record(standardized), "record_id": pk}
    return data, labels


def _labelled_pairs(data: dict[str, dict], labels: list[TrainingLabel]) -> dict[str, list]:
    return {
        kind: [(data[f"r{x.record_a_id}"], data[f"r{x.record_b_id}"]) for x in labels if x.label == kind]
        for kind in (Label.MATCH, Label.DISTINCT)
    }


# A predicate whose biggest block holds more than this share of the sample ("has a phone", "has
# a country", "one email address") never makes a useful block: runs leave out blocks of more
# than C360_MATCHING_MAX_BLOCK parties, and counting its pairs was most of the learner's time.
PREDICATE_MAX_BLOCK_SHARE = 0.5


def _covered_pairs(blocker, records: dict[int, dict]) -> dict:
    """dedupe's ``DedupeBlockLearner.coveredPairs`` (predicate → the sample's pairs it puts in
    one block), with each pair as one integer ``a * n + b`` instead of a tuple (dedupe only
    counts and intersects them) and without the predicates of ``PREDICATE_MAX_BLOCK_SHARE``:
    on the demo data 1.3 million pairs instead of 9.5 million, 17 s → a few."""
    from itertools import combinations

    n = len(records)
    cover = {}
    for predicate in blocker.predicates:
        blocks: dict[str, set[int]] = {}
        for record_id, record in records.items():
            for block in predicate(record):
                blocks.setdefault(block, set()).add(record_id)
        if not blocks or max(len(members) for members in blocks.values()) > n * PREDICATE_MAX_BLOCK_SHARE:
            continue
        pairs = frozenset(
            a * n + b
            for members in blocks.values()
            if len(members) > 1
            for a, b in combinations(sorted(members), 2)
        )
        if pairs:
            cover[predicate] = pairs
    return cover


class PredicateLearner:
    """What ``dedupe.Dedupe.train`` needs of its active learner (dedupe 3.0): ``mark`` and
    ``learn_predicates``, which learns the blocking predicates covering the labelled matches
    by dedupe's own ``training.DedupeBlockLearner.learn``, weighing each predicate by the pairs
    it makes on the sample (``_covered_pairs``).

    Why not ``prepare_training``: its learner also samples 10,000 pairs to ask about, weighted
    by the cover of every predicate, computes every variable's distances for them and indexes
    them: 50 s and more on the demo data, for questions training never asks (the training
    page's come from ``matching.services.questions``). Index predicates are left out unless
    ``index_predicates`` (they could never be chosen): indexing them is slow too."""

    def __init__(self, predicates, data: dict[str, dict], *, index_predicates: bool) -> None:
        from dedupe.blocking import Fingerprinter
        from dedupe.labeler import _filter_canopy_predicates
        from dedupe.training import DedupeBlockLearner

        chosen = [p for p in predicates if index_predicates or not hasattr(p, "index")]
        records = dict(enumerate(data.values()))
        learner = DedupeBlockLearner.__new__(DedupeBlockLearner)  # its __init__ is the slow part
        learner.blocker = Fingerprinter(_filter_canopy_predicates(chosen, canopies=True))
        learner.blocker.index_all(records)
        learner.comparison_cover = _covered_pairs(learner.blocker, records)
        self.block_learner = learner
        self.pairs: list = []
        self.y: list[int] = []

    def mark(self, pairs, y) -> None:
        self.pairs.extend(pairs)
        self.y.extend(int(label) for label in y)

    def learn_predicates(self, recall: float, index_predicates: bool):
        dupes = [pair for label, pair in zip(self.y, self.pairs, strict=True) if label]
        return self.block_learner.learn(
            dupes, recall=recall, index_predicates=index_predicates, candidate_types="random forest"
        )


REFRESH_QUEUED_KEY = "matching:training-pairs-refresh-queued"
REFRESH_RUNNING_KEY = "matching:training-pairs-refresh-running"
REFRESH_EXHAUSTED_KEY = "matching:training-pairs-exhausted"
REFRESH_QUEUED_SECONDS = 600  # a lost task does not block the next request for longer
REFRESH_EXHAUSTED_SECONDS = 300  # after a refresh found nothing, pages do not ask again for this long
# The training page serves its questions from a precomputed queue (``TrainingPair``) and never
# computes one while a steward waits: a worker tops the queue up by ``QUEUE_REFILL`` questions
# as soon as fewer than ``QUEUE_LOW`` wait, which is several answers before it runs dry (a
# refresh takes 1-5 s on the demo data; a steward answers in 2-10 s).
QUEUE_LOW = 5
QUEUE_REFILL = 10


def training_pairs_refresh_request() -> bool:
    """Queue one refresh of the pairs to label, unless one is already waiting for a worker: every
    click of *Find pairs to label* and every answer near the end of the queue asks for one, and
    each took a worker half a minute or more with dedupe's learner (250 clicks queued two hours of
    work; a few seconds now, still not worth repeating). The task clears the mark when it starts,
    so a request made while one runs queues one more. Returns whether a refresh was queued."""
    from django.core.cache import cache

    if not cache.add(REFRESH_QUEUED_KEY, 1, timeout=REFRESH_QUEUED_SECONDS):
        return False
    from matching.tasks import training_pairs_refresh_task

    transaction.on_commit(lambda: training_pairs_refresh_task.delay())
    return True


def training_pairs_waiting() -> int:
    """How many questions wait in the queue."""
    from matching.models import TrainingPair

    return TrainingPair.objects.filter(answered_at=None).count()


def training_queue_top_up() -> bool:
    """Ask a worker for more questions when fewer than ``QUEUE_LOW`` wait (cheap: one count and
    a cache mark; the questions are computed by the worker). Returns whether one was asked for."""
    from django.core.cache import cache

    if training_pairs_waiting() >= QUEUE_LOW or cache.get(REFRESH_EXHAUSTED_KEY):
        return False  # enough wait, or the data had no more a moment ago (a click still asks)
    return training_pairs_refresh_request()


def training_refresh_pending() -> bool:
    """Whether a refresh is queued for a worker or running now: the page then waits for it."""
    from django.core.cache import cache

    return bool(cache.get(REFRESH_QUEUED_KEY) or cache.get(REFRESH_RUNNING_KEY))


def training_pairs_refresh(*, count: int = QUEUE_REFILL, sample_size: int | None = None) -> int:
    """Queue the ``count`` pairs the matcher is least sure about that nobody has judged or
    been asked yet (``matching.services.questions``), least sure first. Returns how many."""
    from matching.models import TrainingPair
    from matching.services.questions import training_questions

    questions = training_questions(count=count, sample_size=sample_size)
    # ignore_conflicts: a refresh running at the same time may have queued one of them
    TrainingPair.objects.bulk_create(
        [TrainingPair(record_a_id=q.record_a, record_b_id=q.record_b) for q in questions],
        ignore_conflicts=True,
    )
    from django.core.cache import cache

    if questions:
        cache.delete(REFRESH_EXHAUSTED_KEY)
    else:
        cache.set(REFRESH_EXHAUSTED_KEY, 1, timeout=REFRESH_EXHAUSTED_SECONDS)
    return len(questions)


def training_pair_next():
    """The oldest pair waiting for a judgement, or None: read from the queue, never computed.
    A waiting pair answered meanwhile another way (a label file, a steward's decision in the
    merge queue) or whose two records now belong to one party (merged) is no question any
    more: it is marked answered and the next one is served."""
    from django.utils import timezone

    from matching.models import TrainingPair

    while True:
        pair = (
            TrainingPair.objects.filter(answered_at=None)
            .select_related("record_a__source_system", "record_b__source_system")
            .first()
        )
        if pair is None:
            return None
        answered = TrainingLabel.objects.filter(
            record_a_id=pair.record_a_id, record_b_id=pair.record_b_id
        ).exists()
        if not answered and pair.record_a.party_id != pair.record_b.party_id:
            return pair
        TrainingPair.objects.filter(pk=pair.pk, answered_at=None).update(answered_at=timezone.now())


def training_pair_answer(*, pair_id: int, label: str, user) -> TrainingLabel | None:
    """Record a steward's answer: same, different or unsure (stored, not used for training).
    Answering a pair twice (two stewards at once) keeps the later answer."""
    from django.utils import timezone

    from matching.models import TrainingPair

    pair = TrainingPair.objects.select_related("record_a", "record_b").get(pk=pair_id)
    with transaction.atomic():
        TrainingPair.objects.filter(pk=pair.pk).update(answered_at=timezone.now())
        return label_set(record_a=pair.record_a, record_b=pair.record_b, label=label, user=user)


@transaction.atomic
def matcher_activate(*, model_id: int) -> MatcherModel:
    """Make a stored model version the active one (rollback)."""
    model = MatcherModel.objects.select_for_update().get(pk=model_id)
    MatcherModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
    if not model.is_active:
        model.is_active = True
        model.save(update_fields=["is_active"])
    return model
