"""Clustering a person's many records (issue 17): pairs that were never candidates inside a
group are scored before dedupe clusters it, so a person whose records share one key here and
another there stays whole, and a steward's "not a match" is still respected."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from matching.models import MatcherModel, PairDecision
from matching.services.blocking import matcher_load
from matching.services.suggestions import clusters_of, scores_completed
from parties.models import ContactPointEmail
from tests.factories import PartyFactory
from tests.matching.helpers import trained


def _copies(count):
    parties = []
    for _ in range(count):
        party = PartyFactory(
            given_name="Rosalind", family_name="Quenby", birth_date=datetime.date(1971, 5, 9)
        )
        ContactPointEmail.objects.create(party=party, raw_value="x", normalized="rq71@example.org")
        parties.append(party.pk)
    return parties


def _chain(ids, score=0.99):
    scores = np.empty(len(ids) - 1, dtype=[("pairs", "i8", 2), ("score", "f4")])
    scores["pairs"] = [(a, b) for a, b in zip(ids, ids[1:], strict=False)]
    scores["score"] = score
    return scores


@pytest.mark.django_db
def test_a_person_whose_records_were_compared_only_in_a_chain_stays_whole(tmp_path):
    trained(tmp_path, parties=200, seed=5)
    matcher = matcher_load(MatcherModel.objects.get(is_active=True))
    ids = _copies(4)
    chain = _chain(ids)  # A-B, B-C, C-D scored; A-C, A-D, B-D never candidates

    completed = scores_completed(matcher, chain, 0.5)

    assert len(completed) == 6
    clusters = clusters_of(matcher, chain, 0.5)
    assert [sorted(int(i) for i in members) for members, _ in clusters] == [sorted(ids)]


@pytest.mark.django_db
def test_a_pair_a_steward_rejected_is_not_scored_again_for_clustering(tmp_path):
    trained(tmp_path, parties=200, seed=5)
    matcher = matcher_load(MatcherModel.objects.get(is_active=True))
    a, b, c = _copies(3)
    PairDecision.objects.create(party_a_id=a, party_b_id=c, decision="rejected")

    completed = scores_completed(matcher, _chain([a, b, c]), 0.5)

    assert {tuple(sorted(map(int, p))) for p in completed["pairs"]} == {(a, b), (b, c)}
