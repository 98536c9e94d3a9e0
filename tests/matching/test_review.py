"""Merging from the queue: suggestion states, partial merges, stale suggestions, claims, bulk
and automatic merges, the labels decisions teach, and the audit entries they leave."""

from __future__ import annotations

import pytest

from matching.models import (
    MatchSettings,
    MatchSuggestion,
    PairDecision,
    SuggestionStatus,
    TrainingLabel,
)
from matching.services.decisions import suggestion_reject
from matching.services.review import (
    SuggestionStale,
    suggestion_merge,
    suggestions_auto_merge,
    suggestions_claim,
    suggestions_merge_bulk,
)
from parties import models as m
from parties.services.merge import AlreadyHandled, party_unmerge
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def test_merging_a_suggestion_merges_its_parties_and_teaches_the_matcher():
    c = customer_copies()
    steward = UserFactory(username="ann")
    suggestion = suggestion_for([c.crm.pk, c.shop.pk], score=0.93)

    result = suggestion_merge(suggestion_id=suggestion.pk, user=steward, survivor_id=c.crm.pk)

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.MERGED and suggestion.decided_by == steward
    assert result.survivor_id == c.crm.pk and result.merged_ids == [c.shop.pk]
    event = m.PartyEvent.objects.get(kind=m.EventKind.MERGE)
    assert (event.suggestion_id, event.score, event.actor) == (suggestion.pk, pytest.approx(0.93), steward)
    # the label pairs the two customers' own records, as they were before the merge
    label = TrainingLabel.objects.get(origin="queue")
    assert label.label == "match"
    assert {label.record_a.source_key, label.record_b.source_key} == {"C-1", "S-1"}


def test_a_second_steward_is_told_who_merged_it_first():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    suggestion_merge(suggestion_id=suggestion.pk, user=UserFactory(username="ann"))

    with pytest.raises(AlreadyHandled, match="already handled \\(merged\\) by ann"):
        suggestion_merge(suggestion_id=suggestion.pk, user=UserFactory(username="bob"))
    assert m.PartyEvent.objects.count() == 1


def test_an_overlapping_suggestion_is_refused_after_the_first_merge():
    c = customer_copies()
    first = suggestion_for([c.crm.pk, c.shop.pk])
    second = suggestion_for([c.shop.pk, c.pos.pk])
    suggestion_merge(suggestion_id=first.pk, user=UserFactory(username="ann"), survivor_id=c.crm.pk)

    second.refresh_from_db()
    assert second.status == SuggestionStatus.CLOSED  # the merge closed it
    with pytest.raises(AlreadyHandled):
        suggestion_merge(suggestion_id=second.pk, user=UserFactory(username="bob"))


def test_merging_ticked_members_leaves_the_rest_pending_with_the_survivor():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk])

    suggestion_merge(
        suggestion_id=suggestion.pk, user=None, party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk
    )

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert set(suggestion.members.values_list("party_id", flat=True)) == {c.crm.pk, c.pos.pk}
    assert suggestion.size == 2


def test_a_suggestion_whose_parties_changed_is_rescored_not_merged():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    m.ContactPointEmail.objects.create(
        party=c.shop, raw_value="new@example.com", normalized="new@example.com"
    )

    with pytest.raises(SuggestionStale, match="changed since this suggestion was made \\(emails\\)"):
        suggestion_merge(suggestion_id=suggestion.pk, user=None)

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert "new@example.com" in suggestion.evidence["emails"]["values"][str(c.shop.pk)]
    assert not m.PartyEvent.objects.exists()
    suggestion_merge(suggestion_id=suggestion.pk, user=None)  # now it describes them again
    assert m.PartyEvent.objects.count() == 1


def test_chosen_values_become_overrides_on_the_survivor():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])

    suggestion_merge(
        suggestion_id=suggestion.pk,
        user=None,
        survivor_id=c.crm.pk,
        chosen_values={"given_name": "Anne", "family_name": "Schmidt"},
    )

    c.crm.refresh_from_db()
    assert c.crm.given_name == "Anne"  # the rules would have kept the CRM's "Anna"
    assert list(m.GoldenOverride.objects.filter(party=c.crm).values_list("attribute", flat=True)) == [
        "given_name"
    ]  # the family name agreed with the rules: no override needed


def test_unmerge_records_the_pair_as_not_a_match():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    result = suggestion_merge(suggestion_id=suggestion.pk, user=None)

    party_unmerge(event_id=result.event.pk)

    a, b = sorted([c.crm.pk, c.shop.pk])
    assert PairDecision.objects.get(party_a_id=a, party_b_id=b, is_active=True).decision == "rejected"


def test_claims_keep_suggestions_away_from_other_stewards():
    c = customer_copies()
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    s1 = suggestion_for([c.crm.pk, c.shop.pk], score=0.9)
    s2 = suggestion_for([c.pos.pk, c.employer.pk], score=0.8)

    assert suggestions_claim(user=ann, queryset=MatchSuggestion.objects.order_by("-score"), count=1) == 1
    assert suggestions_claim(user=bob, queryset=MatchSuggestion.objects.order_by("-score"), count=5) == 1
    assert MatchSuggestion.objects.get(pk=s1.pk).claimed_by == ann
    assert MatchSuggestion.objects.get(pk=s2.pk).claimed_by == bob


def test_bulk_merge_merges_each_and_reports_refusals():
    c = customer_copies()
    good = suggestion_for([c.crm.pk, c.shop.pk])
    overlapping = suggestion_for([c.shop.pk, c.pos.pk])

    result = suggestions_merge_bulk(suggestion_ids=[good.pk, overlapping.pk], user=None)

    assert (result.merged, result.parties_merged) == (1, 1)
    assert len(result.refused) == 1 and f"#{overlapping.pk}" in result.refused[0]


def test_auto_merge_merges_above_the_threshold_as_a_rule_and_does_not_teach():
    c = customer_copies()
    settings = MatchSettings.current()
    settings.auto_merge_threshold = 0.95
    settings.save()
    high = suggestion_for([c.crm.pk, c.shop.pk], score=0.97)
    low = suggestion_for([c.pos.pk, c.employer.pk], score=0.9)

    result = suggestions_auto_merge(run_id=high.run_id)

    assert result.merged == 1
    assert MatchSuggestion.objects.get(pk=high.pk).status == SuggestionStatus.MERGED
    assert MatchSuggestion.objects.get(pk=low.pk).status == SuggestionStatus.PENDING
    event = m.PartyEvent.objects.get()
    assert event.kind == m.EventKind.AUTO_MERGE and event.actor is None
    assert event.actor_label == "auto-merge (score ≥ 0.95)"
    assert not TrainingLabel.objects.exists()


def test_not_a_match_is_in_the_audit_trail():
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk], score=0.7)
    suggestion_reject(suggestion_id=suggestion.pk, user=UserFactory(username="ann"))

    event = m.PartyEvent.objects.get()
    assert event.kind == m.EventKind.REJECT and event.actor_label == "ann"
    assert set(event.parties.values_list("pk", flat=True)) == {c.crm.pk, c.shop.pk}


def test_a_match_run_ends_by_merging_what_scores_above_the_auto_merge_threshold(tmp_path):
    from django.core.management import call_command

    from matching.models import MatchRun
    from tests.matching.helpers import trained

    trained(tmp_path, parties=200, seed=4)
    settings = MatchSettings.current()
    settings.auto_merge_threshold = 0.9
    settings.save()

    call_command("rematch", "--full", "--sync")

    run = MatchRun.objects.filter(full=True).latest("pk")
    merged = MatchSuggestion.objects.filter(run=run, status=SuggestionStatus.MERGED)
    assert run.auto_merged == merged.count() > 0
    assert not MatchSuggestion.objects.filter(
        run=run, status=SuggestionStatus.PENDING, score__gte=0.9
    ).exists()
    assert m.PartyEvent.objects.filter(kind=m.EventKind.AUTO_MERGE).count() == run.auto_merged
    assert m.Party.objects.filter(status=m.PartyStatus.MERGED).count() >= run.auto_merged


@pytest.mark.parametrize("order", ["score", "risk", "newest"])
def test_neighbours_follow_the_queue_order_including_ties_and_decided_ones(order):
    from matching.filters import ORDERS
    from matching.selectors_queue import queue_neighbours
    from tests.factories import PartyFactory

    parties = [PartyFactory() for _ in range(8)]
    made = [
        suggestion_for([parties[i].pk, parties[i + 1].pk], score=s)
        for i, s in zip(range(0, 8, 2), (0.9, 0.9, 0.8, 0.7), strict=True)
    ]
    queue = MatchSuggestion.objects.filter(status="pending").order_by(*ORDERS[order])
    ids = list(queue.values_list("pk", flat=True))

    for at, pk in enumerate(ids):
        assert queue_neighbours(queue, pk) == (
            ids[at - 1] if at else None,
            ids[at + 1] if at + 1 < len(ids) else None,
        )
    MatchSuggestion.objects.filter(pk=ids[1]).update(status="merged")  # just decided
    assert queue_neighbours(queue.all(), ids[1]) == (ids[0], ids[2])
    assert len(made) == 4
