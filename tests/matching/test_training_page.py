"""The active-learning queue and the training page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import TrainingLabel, TrainingPair
from matching.services.training import training_pair_next, training_pairs_refresh
from parties.services.demo import demo_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    demo_seed(parties=120, sources=3, seed=5)


def test_the_learner_queues_pairs_nobody_has_judged(demo):
    queued = training_pairs_refresh(count=5, sample_size=300)
    assert queued == 5
    pairs = list(TrainingPair.objects.values_list("record_a_id", "record_b_id"))
    assert len(set(pairs)) == 5 and all(a < b for a, b in pairs)

    # answered pairs and queued pairs are never asked again
    TrainingLabel.objects.create(record_a_id=pairs[0][0], record_b_id=pairs[0][1], label="match")
    training_pairs_refresh(count=5, sample_size=300)
    assert TrainingPair.objects.count() == 10
    assert len(set(TrainingPair.objects.values_list("record_a_id", "record_b_id"))) == 10


def test_a_steward_answers_the_waiting_pair(demo, role_client, django_capture_on_commit_callbacks):
    training_pairs_refresh(count=6, sample_size=300)
    client = role_client("steward")
    page = client.get(reverse("matching:training"))
    pair = page.context["pair"]
    assert pair is not None and b"Same customer" in page.content

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("matching:training_answer"), {"pair": pair.pk, "label": "match"})
    assert response.status_code == 302
    label = TrainingLabel.objects.get()
    assert (label.record_a_id, label.record_b_id, label.label) == (
        pair.record_a_id,
        pair.record_b_id,
        "match",
    )
    assert label.labelled_by.username == "t-steward"
    assert training_pair_next().pk != pair.pk
    assert len(callbacks) == 0  # 5 pairs still waiting (QUEUE_LOW): no refill yet


def test_a_bad_answer_is_refused_without_a_trace(demo, role_client):
    training_pairs_refresh(count=2, sample_size=300)
    pair = training_pair_next()
    client = role_client("steward")
    client.post(reverse("matching:training_answer"), {"pair": pair.pk, "label": "perhaps"})
    client.post(reverse("matching:training_answer"), {"pair": "999999", "label": "match"})
    assert TrainingLabel.objects.count() == 0


def test_training_with_too_few_answers_says_what_is_missing(role_client):
    response = role_client("steward").post(reverse("matching:training_train"), follow=True)
    assert b"Training needs at least 3" in response.content


def test_marketing_may_not_train_the_matcher(role_client):
    assert role_client("marketing").get(reverse("matching:training")).status_code == 403
    assert role_client("marketing").post(reverse("matching:training_refresh")).status_code == 403


def test_the_pair_is_shown_as_stewards_know_it_and_compared_as_the_matcher_does(role_client):
    from tests.factories import SourceRecordFactory

    def record(key: str, given: str, email: str):
        return SourceRecordFactory(
            source_key=key,
            standardized={
                "kind": "individual",
                "attributes": {"given_name": given, "family_name": "Lee"},
                "emails": [email],
                "phones": [],
                "address": None,
                "identifier": None,
            },
        )

    a, b = record("A1", "Ann", "ann@x.org"), record("B1", "ANN", "ann@y.org")
    TrainingPair.objects.create(record_a=a, record_b=b)
    rows = {r["field"]: r for r in role_client("steward").get(reverse("matching:training")).context["rows"]}
    assert (rows["given name"]["a"], rows["given name"]["b"]) == ("Ann", "ANN")
    assert rows["given name"]["same"] and rows["family name"]["same"]
    assert not rows["emails"]["same"]
    assert rows["birth date"]["missing"]


def test_an_administrator_rolls_back_to_an_earlier_model(role_client):
    from matching.models import MatcherModel

    old = MatcherModel.objects.create(
        settings_blob=b"v1", labels_match=5, labels_distinct=5, training_seconds=1.0, is_active=False
    )
    new = MatcherModel.objects.create(
        settings_blob=b"v2", labels_match=9, labels_distinct=9, training_seconds=2.0, is_active=True
    )
    url = reverse("matching:model_activate", args=[old.pk])
    page = role_client("administrator").get(reverse("matching:training")).content.decode()
    assert f"Roll back to v{old.pk}" in page and f"Roll back to v{new.pk}" not in page

    assert role_client("steward").post(url).status_code == 403
    response = role_client("administrator").post(url, follow=True)
    assert f"Model v{old.pk} (5+5 labels) is active again" in response.content.decode()
    assert list(MatcherModel.objects.filter(is_active=True)) == [old]
    missing = role_client("administrator").post(
        reverse("matching:model_activate", args=[999999]), follow=True
    )
    assert b"There is no model v999999" in missing.content


def test_find_pairs_clicked_many_times_queues_one_refresh_until_a_worker_starts_it(
    role_client, django_capture_on_commit_callbacks
):
    # each click queued a refresh of half a minute or more: 236 clicks queued two hours of work
    from django.core.cache import cache

    from matching.services.training import REFRESH_QUEUED_KEY
    from matching.tasks import training_pairs_refresh_task

    cache.delete(REFRESH_QUEUED_KEY)
    client = role_client("steward")
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            pages = [client.post(reverse("matching:training_refresh"), follow=True) for _ in range(4)]
        assert len(callbacks) == 1
        said = [[str(m) for m in page.context["messages"]] for page in pages]
        assert said[0] == ["Looking for the pairs the matcher is least sure about…"]
        assert all(
            s
            == [
                "Already looking for the pairs the matcher is least sure about; they appear "
                "here when a worker has found them."
            ]
            for s in said[1:]
        )
        training_pairs_refresh_task.apply()  # a worker starts it: the next click queues another
        with django_capture_on_commit_callbacks() as callbacks:
            client.post(reverse("matching:training_refresh"))
        assert len(callbacks) == 1
    finally:
        cache.delete(REFRESH_QUEUED_KEY)
