"""A split at the same moment as a merge of the same suggestion, or of an overlapping one, on
PostgreSQL: the split locks like merge and reject (parties first, in primary-key order, then
the suggestion), so one decision wins, the other steward is told who made it, nothing deadlocks."""

from __future__ import annotations

import pytest
from django.db import connection

from matching.models import PairDecision, SuggestionStatus
from matching.services.decisions import SuggestionClosed
from matching.services.review import SuggestionStale
from matching.services.split import suggestion_split
from parties import models as m
from parties.services.merge import AlreadyHandled
from tests.factories import PartyFactory, UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.test_concurrent_decisions import _merge, _race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and deadlocks are PostgreSQL's; SQLite serializes "
        "whole write transactions, so these cannot deadlock there",
    ),
]

TRIALS = 8


def _split(suggestion_id: int, groups, user) -> str:
    try:
        suggestion_split(suggestion_id=suggestion_id, groups=groups, user=user)
    except (SuggestionClosed, AlreadyHandled) as exc:
        return f"refused: {exc}"
    except SuggestionStale as exc:
        return f"stale: {exc}"
    return "split"


def test_split_and_merge_of_one_suggestion_at_once():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    for trial in range(TRIALS):
        # Given a pending suggestion of four parties
        ids = [PartyFactory().pk for _ in range(4)]
        suggestion = suggestion_for(ids)

        # When ann merges it all and bob splits it into two pairs at the same moment
        actions = [
            lambda s=suggestion.pk: _merge(s, ann),
            lambda s=suggestion.pk, g=[ids[:2], ids[2:]]: _split(s, g, bob),
        ]
        if trial % 2:
            actions.reverse()
        outcomes = _race(*actions)

        # Then exactly one decision is made and the other steward is told who made it
        kinds = sorted(o.split(":")[0] for o in outcomes)
        assert kinds in (["merged", "refused"], ["refused", "split"]), (trial, outcomes)
        refusal = next(o for o in outcomes if o.startswith("refused"))
        suggestion.refresh_from_db()
        if "merged" in kinds:
            assert suggestion.status == SuggestionStatus.MERGED and "by ann" in refusal, refusal
            assert m.Party.objects.filter(pk__in=ids, status="active").count() == 1
            assert not PairDecision.objects.filter(suggestion=suggestion, decision="rejected").exists()
        else:
            assert suggestion.status == SuggestionStatus.SPLIT
            assert "already handled (split into groups) by bob" in refusal, refusal
            assert m.Party.objects.filter(pk__in=ids, status="active").count() == 2


def test_split_while_an_overlapping_suggestion_merges():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    for trial in range(TRIALS):
        # Given {a, b, c, d} pending, and {d, e} pending too
        a, b, c, d, e = (PartyFactory().pk for _ in range(5))
        splitting, merging = suggestion_for([a, b, c, d]), suggestion_for([d, e])

        actions = [
            lambda s=merging.pk: _merge(s, ann),
            lambda s=splitting.pk, g=[[a, b], [c, d]]: _split(s, g, bob),
        ]
        if trial % 2:
            actions.reverse()
        outcomes = _race(*actions)

        # Then nothing fails: the split came first; or the merge did, and the split is refused
        # naming it (d merged away) or not applied to changed parties (d absorbed e)
        assert not any(o.startswith("error") for o in outcomes), (trial, outcomes)
        split_outcome = outcomes[1 - trial % 2]
        splitting.refresh_from_db()
        if split_outcome == "split":
            assert splitting.status == SuggestionStatus.SPLIT
        elif split_outcome.startswith("stale"):
            assert f"party {d} absorbed party {e}" in split_outcome, outcomes
            assert splitting.status == SuggestionStatus.PENDING  # re-scored, to review again
        else:
            assert "was already merged into party" in split_outcome and "by ann" in split_outcome, outcomes
