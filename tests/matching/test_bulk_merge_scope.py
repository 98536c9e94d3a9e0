"""What a bulk merge takes (issue 19, item 6): ``bulk_merge_scope`` holds the score floor's rule
and picks the suggestions, the queue's bulk merge view only reads the form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from matching.models import BulkMergeJob, SuggestionStatus
from matching.services.bulk import bulk_merge_scope
from tests.factories import PartyFactory
from tests.matching.queue_helpers import suggestion_for

pytestmark = pytest.mark.django_db


def _pair(score: float):
    return suggestion_for([PartyFactory().pk, PartyFactory().pk], score=score)


def test_above_a_floor_it_takes_every_pending_suggestion_at_or_above_it_best_first():
    low, at, high = _pair(0.80), _pair(0.90), _pair(0.97)
    decided = _pair(0.99)
    decided.status = SuggestionStatus.REJECTED
    decided.save()

    chosen = bulk_merge_scope(score_at_least=0.9)

    assert chosen.suggestion_ids == [high.pk, at.pk]
    assert low.pk not in chosen.suggestion_ids
    assert chosen.text == "every pending suggestion scoring 0.90 or more"


@pytest.mark.parametrize("floor", [-0.1, 1.01, float("nan"), float("inf")])
def test_a_floor_outside_0_to_1_is_refused_naming_the_score(floor):
    _pair(0.95)
    with pytest.raises(ValidationError) as refused:
        bulk_merge_scope(score_at_least=floor)
    assert list(refused.value.message_dict) == ["score_at_least"]
    assert "is not between 0 and 1" in refused.value.message_dict["score_at_least"][0]


@pytest.mark.parametrize("floor", [0.0, 1.0])
def test_the_ends_of_the_range_are_floors_too(floor):
    top = _pair(1.0)
    assert bulk_merge_scope(score_at_least=floor).suggestion_ids == [top.pk]


def test_chosen_suggestions_are_taken_as_given():
    first, second = _pair(0.8), _pair(0.9)
    chosen = bulk_merge_scope(suggestion_ids=[first.pk, second.pk])
    assert (chosen.suggestion_ids, chosen.text) == ([first.pk, second.pk], "the selected suggestions")


def test_it_wants_either_the_chosen_ones_or_a_floor():
    with pytest.raises(ValueError):
        bulk_merge_scope()
    with pytest.raises(ValueError):
        bulk_merge_scope(suggestion_ids=[1], score_at_least=0.5)


@pytest.mark.parametrize(
    "value, message",
    [
        ("1.5", "Score: 1.5 is not between 0 and 1."),
        ("nan", "Score: nan is not between 0 and 1."),
        ("lots", "Score: enter a number between 0 and 1, e.g. 0.95."),
    ],
)
def test_the_queue_says_what_the_floor_got_wrong_and_queues_nothing(role_client, value, message):
    _pair(0.95)
    response = role_client("steward").post(
        reverse("matching:queue_bulk_merge"),
        {"scope": "above", "score_at_least": value, "confirm": "yes"},
        follow=True,
    )
    assert message in response.content.decode()
    assert not BulkMergeJob.objects.exists()


def test_the_queue_queues_the_scope_the_service_chose(role_client):
    _pair(0.80)
    high = _pair(0.96)
    client, url = role_client("steward"), reverse("matching:queue_bulk_merge")
    shown = client.post(url, {"scope": "above", "score_at_least": "0.95"}).context["shown"]
    response = client.post(
        url, {"scope": "above", "score_at_least": "0.95", "confirm": "yes", "shown": shown}
    )
    job = BulkMergeJob.objects.get()
    assert response.url == reverse("matching:bulk_job", args=[job.pk])
    assert (job.suggestion_ids, job.scope) == ([high.pk], "every pending suggestion scoring 0.95 or more")


def test_a_suggestion_added_after_the_confirmation_was_shown_is_not_merged_unseen(role_client):
    """The confirmation said "1 suggestion, 2 parties"; a match run then added another above
    the floor. Confirming merged both: now nothing is merged and the new numbers are shown."""
    _pair(0.96)
    client, url = role_client("steward"), reverse("matching:queue_bulk_merge")
    shown = client.post(url, {"scope": "above", "score_at_least": "0.95"}).context["shown"]
    _pair(0.97)  # a run in between
    again = client.post(url, {"scope": "above", "score_at_least": "0.95", "confirm": "yes", "shown": shown})
    assert again.status_code == 200 and b'data-testid="bulk-changed"' in again.content
    assert b"Merge 2 suggestions?" in again.content
    assert not BulkMergeJob.objects.exists()
    client.post(
        url, {"scope": "above", "score_at_least": "0.95", "confirm": "yes", "shown": again.context["shown"]}
    )
    assert len(BulkMergeJob.objects.get().suggestion_ids) == 2


def test_a_floor_no_suggestion_reaches_merges_nothing(role_client):
    _pair(0.5)
    response = role_client("steward").post(
        reverse("matching:queue_bulk_merge"),
        {"scope": "above", "score_at_least": "0.99", "confirm": "yes"},
        follow=True,
    )
    assert "Nothing to merge: tick suggestions first, or choose a score." in response.content.decode()
    assert not BulkMergeJob.objects.exists()
