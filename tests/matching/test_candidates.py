"""Candidate pairs from the block-key table, and the cap on candidates per party."""

from __future__ import annotations

import pytest
from django.test import override_settings

from matching.models import BlockKey
from matching.services.scoring import candidate_pairs
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys():
    """Party 0 shares three keys with party 1, two with party 2, one each with 3 and 4."""
    parties = [PartyFactory() for _ in range(5)]
    shared = {1: ["email:x", "phone:1", "name:ann"], 2: ["phone:1", "name:ann"], 3: ["name:ann"],
              4: ["city:rome"]}
    rows = [BlockKey(block_key=key, party=parties[0])
            for key in ["email:x", "phone:1", "name:ann", "city:rome"]]
    rows += [BlockKey(block_key=key, party=parties[i]) for i, ks in shared.items() for key in ks]
    BlockKey.objects.bulk_create(rows)
    return [p.pk for p in parties]


def _pairs(first, last, **kwargs):
    return sorted(pair for batch in candidate_pairs(first, last, **kwargs) for pair in batch)


def test_every_pair_sharing_a_key_once_without_a_cap(keys):
    p = keys
    assert _pairs(p[0], p[0]) == [(p[0], p[1]), (p[0], p[2]), (p[0], p[3]), (p[0], p[4])]


@override_settings(C360_MATCHING_MAX_CANDIDATES=2)
def test_the_cap_keeps_the_partners_sharing_the_most_keys(keys):
    p = keys
    assert _pairs(p[0], p[0]) == [(p[0], p[1]), (p[0], p[2])]
    # an incremental run of party 0 is capped the same way
    assert _pairs(p[0], p[-1], changed=[p[0]]) == [(p[0], p[1]), (p[0], p[2])]
