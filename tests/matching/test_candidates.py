"""Candidate pairs from the block-key table, and the pair budget."""

from __future__ import annotations

import numpy as np
import pytest

from matching.models import BlockKey
from matching.services.scoring import budget_cap, candidate_pairs, closest_partners
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys():
    """Party 0 shares three keys with party 1, two with party 2, one each with 3 and 4;
    parties 1 and 2 share two."""
    parties = [PartyFactory() for _ in range(5)]
    shared = {
        1: ["email:x", "phone:1", "name:ann"],
        2: ["phone:1", "name:ann"],
        3: ["name:ann"],
        4: ["city:rome"],
    }
    rows = [
        BlockKey(block_key=key, party=parties[0]) for key in ["email:x", "phone:1", "name:ann", "city:rome"]
    ]
    rows += [BlockKey(block_key=key, party=parties[i]) for i, ks in shared.items() for key in ks]
    BlockKey.objects.bulk_create(rows)
    return [p.pk for p in parties]


def _pairs(candidates):
    return sorted(pair for batch in candidates.batches() for pair in batch)


def test_every_pair_sharing_a_key_once_within_the_budget(keys):
    p = keys
    # the first of five parties owns every pair it is in: its share of a budget of 4 pairs per
    # party is 2 × 4 × 4/5 = 6 pairs, and it has 4
    found = candidate_pairs(p[0], p[0], budget=4)
    assert found.cap is None and found.found == 4
    assert _pairs(found) == [(p[0], p[1]), (p[0], p[2]), (p[0], p[3]), (p[0], p[4])]
    assert _pairs(candidate_pairs(p[0], p[0], budget=0)) == _pairs(found)


def test_over_the_budget_a_party_keeps_the_partners_sharing_the_most_keys(keys):
    p = keys
    found = candidate_pairs(p[0], p[0], budget=1)  # a share of 2 × 1 × 4/5: 1 pair
    assert (found.found, found.cap) == (4, 1)
    assert _pairs(found) == [(p[0], p[1])]
    # an incremental run's party owns all its pairs: 2 × 1 of them; they stay (smaller, larger)
    found = candidate_pairs(p[0], p[-1], changed=[p[0]], budget=1)
    assert _pairs(found) == [(p[0], p[1]), (p[0], p[2])]
    found = candidate_pairs(p[0], p[-1], changed=[p[2]], budget=1)
    # party 2 shares two keys with 0 and with 1, one with 3
    assert (found.found, found.cap, _pairs(found)) == (3, 2, [(p[0], p[2]), (p[1], p[2])])


def test_the_budget_is_shared_by_the_chunk_so_parties_with_few_partners_keep_them_all(keys):
    """A chunk of all five parties owns 4 + 2 + 1 pairs (of parties 0, 1, 2). Its share of a
    budget of 2 pairs per party is 2 × 2 × (4 + 3 + 2 + 1 + 0)/5 = 8, more than the 7 found:
    nobody is trimmed, though party 0 alone has 4. At 1 pair per party (a share of 4) each
    party keeps its best partner."""
    p = keys
    found = candidate_pairs(p[0], p[-1], budget=2)
    assert found.cap is None
    assert _pairs(found) == sorted(
        [(p[0], p[1]), (p[0], p[2]), (p[0], p[3]), (p[0], p[4]), (p[1], p[2]), (p[1], p[3]), (p[2], p[3])]
    )
    found = candidate_pairs(p[0], p[-1], budget=1)
    assert (found.found, found.cap) == (7, 1)
    assert _pairs(found) == sorted([(p[0], p[1]), (p[1], p[2]), (p[2], p[3])])


def test_a_full_runs_first_chunk_gets_the_largest_share_of_the_budget(keys):
    """Parties owning pairs with larger ids, the first chunk owns the most: the shares of
    chunks (p0..p1) and (p2..p4) are 2 × 1 × (4 + 3)/5 = 2 and 2 × 1 × (2 + 1 + 0)/5 = 1."""
    p = keys
    first, second = candidate_pairs(p[0], p[1], budget=1), candidate_pairs(p[2], p[-1], budget=1)
    assert (first.found, first.cap, _pairs(first)) == (6, 1, [(p[0], p[1]), (p[1], p[2])])
    assert (second.found, second.cap, _pairs(second)) == (1, None, [(p[2], p[3])])


def test_budget_cap_is_the_largest_that_fits():
    partners = np.array([1, 2, 50, 7, 3])
    assert budget_cap(partners, 63) is None
    assert budget_cap(partners, 62) == 49
    assert budget_cap(partners, 20) == 7  # 1 + 2 + 7 + 7 + 3
    assert budget_cap(partners, 19) == 6  # 1 + 2 + 6 + 6 + 3 = 18; K = 7 would be 20
    for budget in range(5, 63):
        cap = budget_cap(partners, budget)
        assert np.minimum(partners, cap).sum() <= budget < np.minimum(partners, cap + 1).sum()


def test_closest_partners_ranks_by_shared_keys_then_partner_id():
    owner = np.array([1, 1, 1, 2, 2, 1])
    partner = np.array([5, 6, 7, 8, 9, 4])
    shared = np.array([1, 3, 1, 1, 2, 1])
    assert closest_partners(owner, partner, shared, 2).tolist() == [False, True, False, True, True, True]
    assert closest_partners(owner, partner, shared, 1).tolist() == [False, True, False, False, True, False]
