"""Suggestion hygiene: "Not a match" is remembered (until the data changes), teaches the
matcher, and suggestions naming merged parties are closed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from matching.models import (
    LabelOrigin,
    MatchSuggestion,
    PairDecision,
    SuggestionStatus,
    TrainingLabel,
)
from matching.services.decisions import SuggestionClosed, suggestion_reject
from matching.services.suggestions import suggestions_close_for_inactive
from parties.extensions import parties_changed_notify
from parties.models import Party, PartyStatus
from tests.matching.helpers import trained


def _pending_with(a: int, b: int) -> bool:
    return (
        MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING, members__party_id=a)
        .filter(members__party_id=b)
        .exists()
    )


def _best_pair() -> tuple[MatchSuggestion, int, int]:
    for suggestion in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING):
        members = list(suggestion.members.values_list("party_id", flat=True))
        if len(members) == 2:
            return suggestion, *sorted(members)
    raise AssertionError("no two-party suggestion")


@pytest.mark.django_db
def test_a_rejected_pair_is_not_suggested_again_until_one_side_changes(tmp_path, steward):
    trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    suggestion, a, b = _best_pair()
    labels_before = TrainingLabel.objects.count()

    suggestion_reject(suggestion_id=suggestion.pk, user=steward)

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.REJECTED and suggestion.decided_by == steward
    decision = PairDecision.objects.get(party_a_id=a, party_b_id=b)
    assert decision.is_active and decision.decision == "rejected"
    label = TrainingLabel.objects.get(origin=LabelOrigin.QUEUE)  # the queue teaches the matcher
    assert label.label == "distinct"  # a new label, or the pair's earlier label overruled
    assert TrainingLabel.objects.count() in (labels_before, labels_before + 1)
    assert {label.record_a.party_id, label.record_b.party_id} == {a, b}
    with pytest.raises(SuggestionClosed):
        suggestion_reject(suggestion_id=suggestion.pk, user=steward)

    call_command("rematch", "--full", "--sync")
    assert MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).exists()
    assert not _pending_with(a, b)

    Party.objects.filter(pk=a).update(updated_at=timezone.now())  # as imports and edits do
    parties_changed_notify([a], reason="test: the party's data changed")
    decision.refresh_from_db()
    assert not decision.is_active
    call_command("rematch", "--full", "--sync")
    assert _pending_with(a, b)  # the same evidence scores the same: suggested again


@pytest.mark.django_db
def test_rejecting_one_member_keeps_the_rest_of_the_cluster(tmp_path, steward):
    trained(tmp_path, parties=400, seed=3)
    call_command("rematch", "--sync")
    suggestion = next(
        (
            s
            for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
            if s.members.count() >= 3
        ),
        None,
    )
    if suggestion is None:
        pytest.skip("this training found no cluster of three")
    members = list(suggestion.members.values_list("party_id", flat=True))
    suggestion_reject(suggestion_id=suggestion.pk, user=steward, party_id=members[-1])
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert sorted(suggestion.members.values_list("party_id", flat=True)) == sorted(members[:-1])
    assert str(members[-1]) not in suggestion.evidence["family_name"]["values"]
    assert PairDecision.objects.filter(suggestion=suggestion).count() == len(members) - 1


@pytest.mark.django_db
def test_suggestions_naming_a_merged_party_are_closed(tmp_path):
    trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    suggestion, a, b = _best_pair()
    Party.objects.filter(pk=b).update(status=PartyStatus.MERGED, merged_into_id=a)

    assert suggestions_close_for_inactive([b]) == 1
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.CLOSED
    call_command("rematch", "--full", "--sync")
    assert not MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING, members__party_id=b).exists()


@pytest.mark.django_db
def test_not_a_match_from_the_list_and_who_may(tmp_path, role_client):
    trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    suggestion, a, b = _best_pair()
    url = reverse("matching:suggestion_reject", args=[suggestion.pk])

    assert role_client("marketing").post(url).status_code == 403
    response = role_client("steward").post(url, follow=True)
    assert b"recorded as not a match" in response.content
    assert PairDecision.objects.filter(party_a_id=a, party_b_id=b).exists()
    again = role_client("steward").post(url, follow=True)
    assert b"already handled (not a match) by t-steward" in again.content
    missing = role_client("steward").post(reverse("matching:suggestion_reject", args=[999999]), follow=True)
    assert b"no suggestion #999999" in missing.content
