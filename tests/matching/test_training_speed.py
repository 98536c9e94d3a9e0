"""The training page's questions and training itself without dedupe's active learner (issue 17:
the next question took 51 s on the demo data, training 100 labels more than 30 s). These assert
what the faster paths do, not how fast: questions nobody was asked, least sure first, both kinds
while training lacks them; predicates that still cover the labelled matches."""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict

import pytest
from django.core.management import call_command

from matching.models import Label, MatcherModel, TrainingLabel, TrainingPair
from matching.services.blocking import matcher_load
from matching.services.questions import training_questions
from matching.services.training import (
    label_counts,
    label_set,
    matcher_train,
    training_pair_answer,
    training_pair_next,
    training_pairs_refresh,
)
from parties.models import SourceRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(tmp_path):
    """Seeded demo data; returns {source record id: entity id} from its truth file."""
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=200, sources=3, seed=9, truth=truth, stdout=io.StringIO())
    ids = {
        (s, k): pk for pk, s, k in SourceRecord.objects.values_list("pk", "source_system__name", "source_key")
    }
    return {ids[(row["source"], row["source_key"])]: row["entity_id"] for row in csv.DictReader(truth.open())}


def _label(entity: dict[int, str], *, matches: int, distincts: int) -> None:
    groups = defaultdict(list)
    for pk, name in sorted(entity.items()):
        groups[name].append(pk)
    records = {r.pk: r for r in SourceRecord.objects.all()}
    multi = [g for g in groups.values() if len(g) > 1]
    for group in multi[:matches]:
        label_set(record_a=records[group[0]], record_b=records[group[1]], label=Label.MATCH)
    singles = [g[0] for g in groups.values() if len(g) == 1]
    for a, b in itertools.islice(zip(singles[::2], singles[1::2], strict=False), distincts):
        label_set(record_a=records[a], record_b=records[b], label=Label.DISTINCT)


def test_the_questions_are_pairs_nobody_was_asked_least_sure_first(demo):
    # Given labels of both kinds (enough to train) and one pair already waiting
    _label(demo, matches=3, distincts=3)
    waiting = TrainingPair.objects.create(record_a_id=min(demo), record_b_id=max(demo))
    judged = set(TrainingLabel.objects.values_list("record_a_id", "record_b_id"))

    # When the matcher picks eight questions
    questions = training_questions(count=8, seed=1)

    # Then they are eight different pairs, none judged or waiting, least sure first, with
    # likely matches and likely distincts among them
    pairs = [(q.record_a, q.record_b) for q in questions]
    assert len(pairs) == len(set(pairs)) == 8
    assert all(a < b for a, b in pairs)
    assert not set(pairs) & (judged | {(waiting.record_a_id, waiting.record_b_id)})
    uncertainty = [q.uncertainty for q in questions]
    assert uncertainty == sorted(uncertainty)
    assert any(q.score >= 0.5 for q in questions) and any(q.score < 0.5 for q in questions)
    assert len({q.levels for q in questions}) >= 6  # they compare differently: each teaches more

    # and the refresh queues them behind the pair already waiting
    assert training_pairs_refresh(count=8) == 8
    assert training_pair_next() == waiting
    queued = set(TrainingPair.objects.exclude(pk=waiting.pk).values_list("record_a_id", "record_b_id"))
    assert len(queued) == 8 and not queued & judged


def test_a_steward_answering_the_first_ten_questions_can_train_and_is_asked_on(demo):
    # Given no label at all, a steward answers the first ten questions truthfully
    assert training_pairs_refresh(count=10) == 10
    while (pair := training_pair_next()) is not None:
        same = demo[pair.record_a_id] == demo[pair.record_b_id]
        training_pair_answer(pair_id=pair.pk, label=Label.MATCH if same else Label.DISTINCT, user=None)

    # Then training has both kinds it needs, and trains
    matches, distincts = label_counts()
    assert matches >= 3 and distincts >= 3, (matches, distincts)
    model = matcher_train()
    assert model.is_active

    # and the next questions (scored by that model, refitted on the answers) are new pairs
    judged = set(TrainingLabel.objects.values_list("record_a_id", "record_b_id"))
    assert training_pairs_refresh(count=5) == 5
    fresh = TrainingPair.objects.filter(answered_at=None)
    assert fresh.count() == 5
    assert not set(fresh.values_list("record_a_id", "record_b_id")) & judged


def test_training_records_its_phases_and_learns_predicates_covering_the_labelled_matches(demo):
    _label(demo, matches=12, distincts=12)

    model = matcher_train()

    assert set(model.phase_seconds) == {
        "records",
        "blocking_sample",
        "evidence_sample",
        "weights_from_data",
        "labels_and_predicates",
    }
    assert 0 < sum(model.phase_seconds.values()) <= model.training_seconds + 0.1
    assert MatcherModel.objects.get(is_active=True) == model

    # dedupe's blocking predicates are still learned from the labelled matches
    matcher = matcher_load(model)
    assert matcher.predicates
    parts = [
        part for predicate in matcher.predicates for part in getattr(predicate, "predicates", (predicate,))
    ]
    assert not any(type(part).__name__ == "ExistsPredicate" for part in parts)  # "has a phone"
    from matching.fields import source_record_record

    records = {r.pk: source_record_record(r.standardized) for r in SourceRecord.objects.all()}
    covered = 0
    labelled = TrainingLabel.objects.filter(label=Label.MATCH)
    for label in labelled:
        a, b = records[label.record_a_id], records[label.record_b_id]
        covered += any(predicate(a) & predicate(b, target=True) for predicate in matcher.predicates)
    assert covered >= 0.9 * labelled.count()
