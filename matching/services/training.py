"""Training labels and the learned model.

Labels are stored per source-record pair (see ``TrainingLabel``); the model is trained from
all of them and stored as a new version. dedupe runs with ``num_cores=1``: its own
multiprocessing cannot start inside Celery's worker processes, so parallel work goes
through Celery chunks instead.
"""

from __future__ import annotations

import csv
import io
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
from matching.comparisons import COMPARISONS
from matching.fields import source_record_record, variables
from matching.models import Label, LabelOrigin, MatcherModel, TrainingLabel
from matching.services.evidence import evidence_sample
from matching.services.scoring import record_distances
from parties.models import SourceRecord, SourceSystem

# The classifier learns its weights from the data itself (matching.classifier); labels refine
# them and teach dedupe its blocking predicates, for which a few matches are enough.
MIN_MATCH_LABELS = 3
MIN_DISTINCT_LABELS = 3
# prepare_training's memory grows fast with the sample (20 GB for 5,000 person records seen
# here). Measured on 13,886 demo records: 1,000 → 10 s and 0.98 GB peak; 1,500 → 24 s and
# 1.9 GB. The default keeps a learner refresh well inside one worker's share of memory.
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


def label_set(*, record_a: SourceRecord, record_b: SourceRecord, label: str,
              origin: str = LabelOrigin.TRAINING, user=None) -> TrainingLabel:
    """Store (or change) the label of a pair; the latest judgement of a pair wins."""
    if record_a.pk == record_b.pk:
        raise ValueError("a record cannot be labelled against itself")
    if label not in Label.values:
        raise ValueError(f"unknown label {label!r}; use one of {', '.join(Label.values)}")
    first, second = sorted([record_a, record_b], key=lambda r: r.pk)
    labelled, _ = TrainingLabel.objects.update_or_create(
        record_a=first, record_b=second,
        defaults={"label": label, "origin": origin, "labelled_by": user})
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
        raise LabelFileError([f"line 1: the header must be {','.join(LABEL_FILE_HEADER)}, "
                              f"not {','.join(header) or 'empty'}"])
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
    return LabelImport(len(pairs), sum(p[2] == Label.MATCH for p in pairs),
                       sum(p[2] == Label.DISTINCT for p in pairs))


def _records_for(sources: dict[str, SourceSystem], wanted: Iterable[tuple]) -> dict:
    keys: dict[int, set[str]] = {}
    for _, source_a, key_a, source_b, key_b, _label in wanted:
        for name, key in ((source_a, key_a), (source_b, key_b)):
            if name in sources:
                keys.setdefault(sources[name].pk, set()).add(key)
    names = {s.pk: name for name, s in sources.items()}
    found = {}
    for source_id, source_keys in keys.items():
        for record in SourceRecord.objects.filter(source_system_id=source_id,
                                                  source_key__in=source_keys):
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
            "training page or load a list with import_labels.")
    return matches, distincts


def matcher_train(*, user=None, sample_size: int | None = None) -> MatcherModel:
    """Train dedupe from every stored label and store the result as the active model (the
    previous one is kept for rollback). Raises ``TooFewLabels`` naming the minimum."""
    matches, distincts = labels_check()
    started = time.monotonic()
    deduper = _learner(sample_size or TRAINING_SAMPLE)
    classifier = EvidenceClassifier(columns_of(deduper.data_model, COMPARISONS))
    evidence = evidence_sample(deduper.data_model, classifier)
    labelled = deduper.training_pairs[Label.MATCH]
    classifier.prepare(evidence.sessions, evidence.candidates, evidence.random_pairs,
                       candidates_total=evidence.candidates_total, pairs_total=evidence.pairs_total,
                       parties=evidence.population,
                       matches=record_distances(deduper.data_model, classifier, labelled))
    deduper.classifier = classifier
    deduper.train(index_predicates=settings.C360_MATCHING_INDEX_PREDICATES)
    buffer = io.BytesIO()
    deduper.write_settings(buffer)
    with transaction.atomic():
        MatcherModel.objects.filter(is_active=True).update(is_active=False)
        return MatcherModel.objects.create(
            settings_blob=buffer.getvalue(), labels_match=matches, labels_distinct=distincts,
            training_seconds=time.monotonic() - started, trained_by=user, is_active=True)


def _learner_data(sample_size: int) -> tuple[dict[str, dict], list[TrainingLabel]]:
    """Records for active learning, keyed ``r<source record id>`` with the id inside (dedupe
    ignores fields it does not compare), plus the stored labels to replay."""
    labels = list(TrainingLabel.objects.exclude(label=Label.UNSURE).select_related(
        "record_a", "record_b"))
    data = {f"r{r.pk}": {**source_record_record(r.standardized), "record_id": r.pk}
            for label in labels for r in (label.record_a, label.record_b)}
    others = list(SourceRecord.objects.exclude(pk__in=[int(k[1:]) for k in data])
                  .values_list("pk", flat=True)[:50_000])
    sample = random.Random().sample(others, min(len(others), sample_size))  # noqa: S311
    for pk, standardized in SourceRecord.objects.filter(pk__in=sample).values_list(
            "pk", "standardized").iterator(chunk_size=2000):
        data[f"r{pk}"] = {**source_record_record(standardized), "record_id": pk}
    return data, labels


def _learner(sample_size: int) -> dedupe.Dedupe | None:
    """A dedupe active learner prepared on a sample and replaying every stored label (shared
    by training and by the training page's pair queue), or None without enough data."""
    data, labels = _learner_data(sample_size)
    if len(data) < 2:
        return None
    learner = dedupe.Dedupe(variables(), num_cores=1)
    learner.prepare_training(data, sample_size=min(sample_size, len(data)))
    if labels:
        by_id = {int(k[1:]): v for k, v in data.items()}
        learner.mark_pairs({
            kind: [(by_id[x.record_a_id], by_id[x.record_b_id]) for x in labels if x.label == kind]
            for kind in (Label.MATCH, Label.DISTINCT)})
    return learner


REFRESH_QUEUED_KEY = "matching:training-pairs-refresh-queued"
REFRESH_QUEUED_SECONDS = 600  # a lost task does not block the next request for longer


def training_pairs_refresh_request() -> bool:
    """Queue one refresh of the pairs to label, unless one is already waiting for a worker: every
    click of *Find pairs to label* and every answer near the end of the queue asks for one, and
    each takes a worker half a minute or more (250 clicks queued two hours of work). The task
    clears the mark when it starts, so a request made while one runs queues one more. Returns
    whether a refresh was queued."""
    from django.core.cache import cache

    if not cache.add(REFRESH_QUEUED_KEY, 1, timeout=REFRESH_QUEUED_SECONDS):
        return False
    from matching.tasks import training_pairs_refresh_task

    transaction.on_commit(lambda: training_pairs_refresh_task.delay())
    return True


def training_pairs_refresh(*, count: int = 10, sample_size: int | None = None) -> int:
    """Rebuild the active learner from the stored labels and queue the ``count`` pairs it is
    most uncertain about that nobody has judged yet. Returns how many were queued."""
    from matching.models import TrainingPair

    learner = _learner(sample_size or TRAINING_SAMPLE)
    if learner is None:
        return 0
    judged = set(TrainingLabel.objects.values_list("record_a_id", "record_b_id"))
    judged |= set(TrainingPair.objects.values_list("record_a_id", "record_b_id"))
    queued = 0
    for _ in range(count * 5):
        if queued >= count:
            break
        try:
            [(first, second)] = learner.uncertain_pairs()
        except IndexError:  # the learner has no candidate pairs left
            break
        a, b = sorted([first["record_id"], second["record_id"]])
        if a == b or (a, b) in judged:
            continue
        TrainingPair.objects.create(record_a_id=a, record_b_id=b)
        judged.add((a, b))
        queued += 1
    return queued


def training_pair_next():
    """The oldest pair waiting for a judgement, or None."""
    from matching.models import TrainingPair

    return (TrainingPair.objects.filter(answered_at=None)
            .select_related("record_a__source_system", "record_b__source_system").first())


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
