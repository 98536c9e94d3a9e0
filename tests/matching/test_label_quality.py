"""Few labels and easy labels (issue 17, items 3 and 6): training works from 4 + 6 labels, and
says so when every "distinct" label is a pair with nothing in common."""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
from collections import defaultdict

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from matching.comparisons import compare_records
from matching.fields import source_record_record
from matching.models import MatcherModel
from matching.services.blocking import matcher_load
from matching.services.scoring import record_distances
from matching.services.training import EASY_LABELS_NOTE
from parties.models import SourceRecord

pytestmark = pytest.mark.django_db


def _demo(tmp_path, *, parties: int = 300, seed: int = 8):
    """Seeded demo data: {entity: [records]} from its truth file, and each record's flat form."""
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=parties, sources=3, seed=seed, truth=truth, stdout=io.StringIO())
    records = {
        (r.source_system.name, r.source_key): r for r in SourceRecord.objects.select_related("source_system")
    }
    entities: dict[str, list[SourceRecord]] = defaultdict(list)
    for row in csv.DictReader(truth.open()):
        entities[row["entity_id"]].append(records[(row["source"], row["source_key"])])
    flat = {r.pk: source_record_record(r.standardized) for r in records.values()}
    return entities, flat


def _nothing_in_common(a: dict, b: dict) -> bool:
    levels = compare_records(a, b)

    def differs(name: str, first_shared_level_above: int) -> bool:
        return math.isnan(levels[name]) or levels[name] >= first_shared_level_above

    return (
        differs("cmp:given", 6)
        and differs("cmp:family", 4)
        and differs("cmp:birth", 4)
        and differs("cmp:address", 3)
        and differs("cmp:email", 2)
        and differs("cmp:phone", 2)
    )


def _label_file(tmp_path, matches, distincts):
    path = tmp_path / "labels.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
        for kind, pairs in (("match", matches), ("distinct", distincts)):
            writer.writerows(
                [a.source_system.name, a.source_key, b.source_system.name, b.source_key, kind]
                for a, b in pairs
            )
    return path


def _easy_labels(entities, flat, *, matches: int, distincts: int, seed: int = 1):
    rng = random.Random(seed)
    multi = sorted((group for group in entities.values() if len(group) > 1), key=lambda g: g[0].pk)
    match_pairs = [tuple(group[:2]) for group in rng.sample(multi, matches)]
    singles = sorted((group[0] for group in entities.values() if len(group) == 1), key=lambda r: r.pk)
    distinct_pairs = []
    while len(distinct_pairs) < distincts:
        a, b = rng.sample(singles, 2)
        if _nothing_in_common(flat[a.pk], flat[b.pk]) and (a, b) not in distinct_pairs:
            distinct_pairs.append((a, b))
    return match_pairs, distinct_pairs


def _scores(model: MatcherModel, flat, pairs) -> np.ndarray:
    matcher = matcher_load(model)
    X = record_distances(matcher.data_model, matcher.classifier, [(flat[a.pk], flat[b.pk]) for a, b in pairs])
    return matcher.classifier.predict_proba(X)[:, 1]


def test_four_matches_and_six_easy_distincts_train_a_sensible_model_that_says_the_labels_are_easy(tmp_path):
    # Given 4 known duplicates and 6 "distinct" pairs of customers with nothing in common
    entities, flat = _demo(tmp_path)
    matches, distincts = _easy_labels(entities, flat, matches=4, distincts=6)
    call_command("import_labels", str(_label_file(tmp_path, matches, distincts)), stdout=io.StringIO())

    # When the matcher is trained
    out = io.StringIO()
    call_command("train_matcher", "--sync", stdout=out)

    # Then it trained: the data's own weights carry it, so records of one customer that nobody
    # labelled score high and random pairs of customers low
    model = MatcherModel.objects.get(is_active=True)
    assert (model.labels_match, model.labels_distinct) == (4, 6)
    labelled = {frozenset((a.pk, b.pk)) for a, b in matches}
    true_pairs = [
        (a, b)
        for group in entities.values()
        for a, b in itertools.combinations(group, 2)
        if frozenset((a.pk, b.pk)) not in labelled
    ]
    rng = random.Random(2)
    everyone = [r for group in entities.values() for r in group]
    owner = {r.pk: entity for entity, group in entities.items() for r in group}
    strangers = []
    while len(strangers) < 300:
        a, b = rng.sample(everyone, 2)
        if owner[a.pk] != owner[b.pk]:
            strangers.append((a, b))
    same, different = _scores(model, flat, true_pairs), _scores(model, flat, strangers)
    assert len(same) >= 50
    assert (same > 0.5).mean() >= 0.8, np.round(np.sort(same), 2)
    assert (different < 0.5).mean() >= 0.98
    assert (same > 0.9).any() and (different < 0.1).any()  # spread out, not collapsed at 0.5

    # and it says the labels teach little, on the model and in the command's output
    text = EASY_LABELS_NOTE.format(n=6)
    assert model.notes == [{"code": "easy_distincts", "text": text}]
    assert text in out.getvalue()
    assert "All 6 'distinct' labels are pairs with nothing in common" in text


def test_a_hard_distinct_label_leaves_no_note(tmp_path):
    # Given the easy labels plus one "distinct" pair of one household: same family name and
    # address, another given name
    entities, flat = _demo(tmp_path)
    matches, distincts = _easy_labels(entities, flat, matches=4, distincts=5)
    owner = {r.pk: entity for entity, group in entities.items() for r in group}
    records = sorted((r for group in entities.values() for r in group), key=lambda r: r.pk)
    household = next(
        (a, b)
        for a, b in itertools.combinations(records, 2)
        if owner[a.pk] != owner[b.pk]
        and (levels := compare_records(flat[a.pk], flat[b.pk]))
        and levels["cmp:family"] == 0
        and levels["cmp:address"] == 0
        and levels["cmp:given"] == 6
    )
    call_command(
        "import_labels", str(_label_file(tmp_path, matches, [*distincts, household])), stdout=io.StringIO()
    )

    # When the matcher is trained
    out = io.StringIO()
    call_command("train_matcher", "--sync", stdout=out)

    # Then there is nothing to say about the labels
    model = MatcherModel.objects.get(is_active=True)
    assert (model.labels_match, model.labels_distinct) == (4, 6)
    assert model.notes == []
    assert "nothing in common" not in out.getvalue()


def test_the_training_page_shows_the_note_and_offers_the_matchers_questions(
    role_client, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from matching.services.training import REFRESH_QUEUED_KEY

    text = EASY_LABELS_NOTE.format(n=6)
    MatcherModel.objects.create(
        settings_blob=b"v1",
        labels_match=4,
        labels_distinct=6,
        training_seconds=1.0,
        is_active=True,
        notes=[{"code": "easy_distincts", "text": text}],
    )
    client = role_client("steward")
    page = client.get(reverse("matching:training")).content.decode()
    assert 'data-testid="model-note"' in page
    assert "All 6 &#x27;distinct&#x27; labels are pairs with nothing in common" in page
    assert "Answer the questions on the training page (hard cases: same name, another person)" in page
    form = page[page.index('data-testid="model-note"') :]
    assert f'action="{reverse("matching:training_refresh")}"' in form[: form.index("</form>")]
    assert "Ask me the matcher's own questions" in form

    # the button queues the learner's questions (one refresh, as Find pairs to label does;
    # opening the page with an empty queue asked for one already)
    cache.delete(REFRESH_QUEUED_KEY)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(reverse("matching:training_refresh"), follow=True)
        assert len(callbacks) == 1
        assert [str(m) for m in response.context["messages"]] == [
            "Looking for the pairs the matcher is least sure about…"
        ]
    finally:
        cache.delete(REFRESH_QUEUED_KEY)

    # a model trained from good labels has nothing to say
    MatcherModel.objects.update(is_active=False)
    MatcherModel.objects.create(
        settings_blob=b"v2", labels_match=9, labels_distinct=9, training_seconds=1.0, is_active=True
    )
    assert 'data-testid="model-note"' not in client.get(reverse("matching:training")).content.decode()
