"""The training page's precomputed queue of questions: served without computing, refilled by a
worker before it runs dry."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from matching.models import TrainingLabel, TrainingPair
from matching.services import questions as questions_module
from matching.services.questions import Question
from matching.services.training import QUEUE_LOW, training_pair_next
from matching.tasks import training_pairs_refresh_task
from tests.factories import PartyFactory, SourceRecordFactory

pytestmark = pytest.mark.django_db


def _record(given: str, party=None):
    party = party or PartyFactory()
    return SourceRecordFactory(
        party=party,
        standardized={
            "kind": "individual",
            "attributes": {"given_name": given, "family_name": "Lee"},
            "emails": [],
            "phones": [],
            "address": None,
            "identifier": None,
        },
    )


def _queue(n: int) -> list[TrainingPair]:
    return [
        TrainingPair.objects.create(record_a=_record(f"A{i}"), record_b=_record(f"B{i}")) for i in range(n)
    ]


@pytest.fixture
def no_computing(monkeypatch):
    """Computing questions while a steward waits is the slowness this queue removes."""

    def refuse(**kwargs):
        raise AssertionError("the training page computed questions while a steward waited")

    monkeypatch.setattr(questions_module, "training_questions", refuse)


def test_the_next_question_is_served_from_the_queue_without_computing(
    role_client, no_computing, django_capture_on_commit_callbacks
):
    # Given more questions queued than the low-water mark
    pairs = _queue(QUEUE_LOW + 2)
    client = role_client("steward")

    # When a steward opens the page and answers three questions
    with django_capture_on_commit_callbacks() as callbacks:
        started = time.monotonic()
        page = client.get(reverse("matching:training"))
        assert page.context["pair"] == pairs[0]
        for expected_next in pairs[1:4]:
            answered = page.context["pair"]
            page = client.post(
                reverse("matching:training_answer"), {"pair": answered.pk, "label": "distinct"}, follow=True
            )
            assert page.context["pair"] == expected_next
        seconds = time.monotonic() - started

    # Then each next question came from the queue: nothing computed, well under 5 s in all
    assert seconds < 5
    assert TrainingLabel.objects.count() == 3
    assert TrainingPair.objects.filter(answered_at__isnull=False).count() == 3
    # and with QUEUE_LOW - 1 left, one refill was asked of a worker (not computed here)
    assert TrainingPair.objects.filter(answered_at=None).count() == QUEUE_LOW - 1
    assert len(callbacks) == 1


def test_the_queue_is_refilled_by_the_worker_before_it_runs_dry(
    role_client, monkeypatch, django_capture_on_commit_callbacks
):
    pairs = _queue(QUEUE_LOW)
    fresh = [(_record(f"C{i}"), _record(f"D{i}")) for i in range(10)]
    monkeypatch.setattr(
        questions_module,
        "training_questions",
        lambda *, count, sample_size=None: [Question(a.pk, b.pk, 0.5, ()) for a, b in fresh[:count]],
    )
    client = role_client("steward")

    # Given QUEUE_LOW questions wait: opening the page asks for nothing
    with django_capture_on_commit_callbacks() as callbacks:
        client.get(reverse("matching:training"))
    assert callbacks == []

    # When an answer leaves fewer than QUEUE_LOW, a refill is sent to a worker, once
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("matching:training_answer"), {"pair": pairs[0].pk, "label": "match"})
        client.post(reverse("matching:training_answer"), {"pair": pairs[1].pk, "label": "match"})
    assert len(callbacks) == 1  # the second answer found the refill already asked for
    training_pairs_refresh_task.apply()  # what the callback sends to a worker

    # Then the worker's refill (run eagerly here) queued ten more behind the waiting ones
    waiting = TrainingPair.objects.filter(answered_at=None)
    assert waiting.count() == QUEUE_LOW - 2 + 10
    assert training_pair_next() == pairs[2]


def test_a_question_answered_another_way_is_skipped_not_asked(no_computing):
    labelled, merged, asked = _queue(3)
    # a label file answered the first; the second's records were merged into one party
    TrainingLabel.objects.create(record_a=labelled.record_a, record_b=labelled.record_b, label="match")
    merged.record_b.party = merged.record_a.party
    merged.record_b.save()

    assert training_pair_next() == asked
    assert set(TrainingPair.objects.filter(answered_at__isnull=False)) == {labelled, merged}


def test_an_empty_queue_waits_for_the_worker_then_says_when_the_data_has_no_more(
    role_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(questions_module, "training_questions", lambda **kwargs: [])
    client = role_client("steward")

    # Given no question queued: the page asks a worker and polls while it works
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.get(reverse("matching:training")).content.decode()
    assert len(callbacks) == 1
    assert 'data-testid="preparing"' in page and 'hx-trigger="every 1s"' in page

    # When the worker finds no pair to ask about
    training_pairs_refresh_task.apply()  # what the callback sends

    # Then the page stops waiting, says so, and does not ask again at every poll
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.get(reverse("matching:training")).content.decode()
    assert callbacks == []
    assert "the matcher found no more pairs it is unsure about" in page
    assert "every 1s" not in page
    # a click still asks (new data may have come)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("matching:training_refresh"))
    assert len(callbacks) == 1
