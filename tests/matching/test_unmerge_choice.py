"""Unmerge asks why: "these are different customers" records not a match, "undo for now"
records nothing; either way the merge's suggestion reads "Merged, then undone"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import MatchSuggestion, PairDecision, SuggestionStatus, TrainingLabel
from matching.services.review import suggestion_merge
from matching.services.split import suggestion_split
from parties import models as m
from parties.services.merge import party_unmerge
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def _merged():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    result = suggestion_merge(suggestion_id=suggestion.pk, user=UserFactory(username="ann"))
    return c, suggestion, result.event, tuple(sorted([c.crm.pk, c.shop.pk]))


def test_different_customers_records_not_a_match():
    _, suggestion, event, pair = _merged()
    bob = UserFactory(username="bob")

    unmerge = party_unmerge(event_id=event.pk, actor=bob, different_customers=True)

    decision = PairDecision.objects.get(party_a_id=pair[0], party_b_id=pair[1], is_active=True)
    assert decision.decision == "rejected"
    assert TrainingLabel.objects.get(origin="queue").label == "distinct"
    assert unmerge.changes["different_customers"] is True
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == (SuggestionStatus.UNMERGED, bob)
    assert suggestion.get_status_display() == "Merged, then undone"


def test_undo_for_now_records_nothing_about_the_pair():
    _, suggestion, event, pair = _merged()

    assert TrainingLabel.objects.get(origin="queue").label == "match"  # taught by the merge

    unmerge = party_unmerge(event_id=event.pk, actor=None, different_customers=False)

    assert not TrainingLabel.objects.filter(origin="queue").exists()  # withdrawn with it
    assert not PairDecision.objects.filter(party_a_id=pair[0], party_b_id=pair[1], is_active=True).exists()
    assert not PairDecision.objects.filter(decision="rejected").exists()
    assert unmerge.changes["different_customers"] is False
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.UNMERGED
    assert m.Party.objects.filter(pk__in=pair, status="active").count() == 2


def test_a_split_reads_unmerged_only_when_none_of_its_merges_stands():
    h = household()
    suggestion = suggestion_for(h.ids)
    result = suggestion_split(
        suggestion_id=suggestion.pk, user=None, groups=[[p.pk for p in h.rosi], [p.pk for p in h.mechthilde]]
    )
    first, second = result.merges

    party_unmerge(event_id=first.pk, different_customers=False)
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.SPLIT
    party_unmerge(event_id=second.pk, different_customers=False)
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.UNMERGED
    # the groups stay apart: "undo for now" of a group's merge does not touch the split's rejections
    assert PairDecision.objects.filter(decision="rejected", is_active=True).count() == 4


def test_the_history_page_asks_why(role_client):
    c, suggestion, event, pair = _merged()
    steward = role_client("steward")
    history = steward.get(reverse("parties:history", args=[c.crm.pk])).content.decode()
    assert "These are different customers" in history and "Undo for now" in history
    url = reverse("parties:unmerge", args=[c.crm.pk, event.pk])

    refused = steward.post(url, {"why": "never"}, follow=True).content.decode()
    assert "not undone" in refused and m.Party.objects.get(pk=c.shop.pk).status == "merged"
    done = steward.post(url, {"why": "undo"}, follow=True).content.decode()

    assert "the next match run may suggest them together again" in done
    assert "undone for now: may be suggested again" in done
    assert not PairDecision.objects.filter(decision="rejected").exists()
    review = steward.get(reverse("matching:review", args=[suggestion.pk])).content.decode()
    assert "Merged, then undone" in review
