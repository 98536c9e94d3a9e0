"""Splitting a suggestion into groups: each group merges, pairs across groups are "not a match",
pairs within a group never are; the same locks and "already handled" answers as merge/reject."""

from __future__ import annotations

from itertools import combinations

import pytest
from django.urls import reverse

from matching.models import MatchSuggestion, PairDecision, SuggestionStatus, TrainingLabel
from matching.services.decisions import SuggestionClosed, decisions_lapse, suggestion_reject
from matching.services.split import SplitRefused, suggestion_split
from parties import models as m
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household

pytestmark = pytest.mark.django_db


def _active(decision: str) -> set[tuple[int, int]]:
    return set(
        PairDecision.objects.filter(is_active=True, decision=decision).values_list("party_a_id", "party_b_id")
    )


def test_splitting_a_household_merges_each_group_and_keeps_the_groups_apart(
    django_capture_on_commit_callbacks,
):
    h = household()
    steward = UserFactory(username="ann")
    suggestion = suggestion_for(h.ids, score=0.81)
    rosi, mechthilde = [p.pk for p in h.rosi], [p.pk for p in h.mechthilde]

    with django_capture_on_commit_callbacks(execute=True):  # the merges' "parties changed" hooks run
        result = suggestion_split(suggestion_id=suggestion.pk, groups=[rosi, mechthilde], user=steward)

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.SPLIT and suggestion.decided_by == steward
    assert len(result.merges) == 2 and result.rejected_pairs == 4
    # each group is one party now
    for group in (rosi, mechthilde):
        survivor = m.Party.objects.get(pk__in=group, status=m.PartyStatus.ACTIVE)
        assert m.Party.objects.get(pk__in=group, status=m.PartyStatus.MERGED).merged_into_id == survivor.pk
        assert m.SourceRecord.objects.filter(party=survivor).count() == 2
    # every pair across the groups is not a match, and stays so after the merges' hooks ran
    across = {tuple(sorted((a, b))) for a in rosi for b in mechthilde}
    assert _active("rejected") == across
    within = {tuple(sorted(pair)) for group in (rosi, mechthilde) for pair in combinations(group, 2)}
    assert not within & _active("rejected")
    # the labels: a match per group, distinct across, each from the parties' own records
    labels = [label.label for label in TrainingLabel.objects.filter(origin="queue")]
    assert labels.count("match") == 2 and labels.count("distinct") == 4
    # the audit trail: two merges from the suggestion, one rejection naming the groups
    assert m.PartyEvent.objects.filter(kind="merge", suggestion_id=suggestion.pk).count() == 2
    reject = m.PartyEvent.objects.get(kind="reject", suggestion_id=suggestion.pk)
    assert "group A" in reject.reason and "group B" in reject.reason


def test_a_later_change_to_a_split_party_lets_the_rejection_lapse():
    h = household()
    suggestion = suggestion_for(h.ids)
    result = suggestion_split(
        suggestion_id=suggestion.pk, user=None, groups=[[p.pk for p in h.rosi], [p.pk for p in h.mechthilde]]
    )
    from django.utils import timezone

    m.Party.objects.filter(pk=result.survivors[0]).update(updated_at=timezone.now())  # an import
    assert decisions_lapse([result.survivors[0]], reason="import") > 0
    assert not _active("rejected") & {tuple(sorted(result.survivors))}


def test_a_single_party_group_stays_alone_and_is_kept_apart():
    h = household()
    suggestion = suggestion_for(h.ids)
    rosi, (m1, m2) = [p.pk for p in h.rosi], [p.pk for p in h.mechthilde]

    result = suggestion_split(suggestion_id=suggestion.pk, groups=[rosi, [m1], [m2]], user=None)

    assert len(result.merges) == 1 and result.rejected_pairs == 5
    assert m.Party.objects.filter(pk__in=[m1, m2], status="active").count() == 2
    assert tuple(sorted((m1, m2))) in _active("rejected")


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (lambda a, b, c, d: [[a, b], [c, d, 999999]], "party 999999 is not in suggestion"),
        (lambda a, b, c, d: [[a, b], [c]], "is in no group"),
        (lambda a, b, c, d: [[a, b, c], [c, d]], "is in group A and in group B"),
        (lambda a, b, c, d: [[a, b, c, d]], "at least two groups"),
        (lambda a, b, c, d: [[a, b, c, d], []], "at least two groups"),
    ],
)
def test_groups_that_are_not_a_split_are_refused_and_nothing_changes(groups, message):
    h = household()
    suggestion = suggestion_for(h.ids)

    with pytest.raises(SplitRefused, match=message):
        suggestion_split(suggestion_id=suggestion.pk, groups=groups(*h.ids), user=None)

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert not PairDecision.objects.exists() and not m.PartyEvent.objects.exists()
    assert m.Party.objects.filter(status="active").count() == 4


def test_a_split_after_someone_decided_says_who():
    h = household()
    suggestion = suggestion_for(h.ids)
    suggestion_reject(suggestion_id=suggestion.pk, user=UserFactory(username="bob"))

    with pytest.raises(SuggestionClosed, match="already handled \\(not a match\\) by bob"):
        suggestion_split(suggestion_id=suggestion.pk, groups=[h.ids[:2], h.ids[2:]], user=None)
    assert not m.PartyEvent.objects.filter(kind="merge").exists()


def test_the_review_page_splits_with_its_form(client):
    h = household()
    steward = UserFactory(username="ann", role="Data steward")
    client.force_login(steward)
    suggestion = suggestion_for(h.ids)
    page = client.get(reverse("matching:review", args=[suggestion.pk]))
    assert b'data-testid="split-groups"' in page.content and b"split-groups.js" in page.content
    url = reverse("matching:review_split", args=[suggestion.pk])
    a, b, c, d = h.ids

    bad = client.post(
        url, {f"group_{a}": "A", f"group_{b}": "A", f"group_{c}": "?", f"group_{d}": "B"}, follow=True
    )
    assert f"group_{c}: &#x27;?&#x27; is not a group letter" in bad.content.decode()
    one = client.post(url, {f"group_{p}": "A" for p in h.ids}, follow=True)
    assert "Not split — a split needs at least two groups" in one.content.decode()
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.PENDING

    done = client.post(
        url, {f"group_{a}": "A", f"group_{b}": "A", f"group_{c}": "B", f"group_{d}": "B"}, follow=True
    )
    assert f"Suggestion #{suggestion.pk} split into 2 groups: 2 merged" in done.content.decode()
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.SPLIT
    assert m.Party.objects.filter(pk__in=h.ids, status="active").count() == 2


def test_who_may_split(client):
    h = household()
    suggestion = suggestion_for(h.ids)
    client.force_login(UserFactory(username="mia", role="Marketing"))
    response = client.post(
        reverse("matching:review_split", args=[suggestion.pk]),
        {f"group_{p}": "AB"[i // 2] for i, p in enumerate(h.ids)},
    )
    assert response.status_code == 403
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.PENDING
