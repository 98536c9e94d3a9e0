"""The product's scoring gives exactly dedupe's scores, faster."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from matching.models import MatcherModel
from matching.selectors import party_records
from matching.services.blocking import matcher_load
from matching.services.scoring import pair_scores
from parties.models import Party, SourceRecord
from tests.matching.helpers import trained

pytestmark = pytest.mark.django_db


def test_pair_scores_equal_dedupes_own_scores(tmp_path):
    truth = trained(tmp_path)
    matcher = matcher_load(MatcherModel.objects.get(is_active=True))
    ids = list(Party.objects.active().order_by("pk").values_list("pk", flat=True))
    records = party_records(ids)
    # every kind of pair: the same customer from two sources, strangers, missing values
    entity = {}
    for row in csv.DictReader(truth.open()):
        record = SourceRecord.objects.get(source_system__name=row["source"], source_key=row["source_key"])
        entity.setdefault(row["entity_id"], []).append(record.party_id)
    pairs = [
        ((g[0], records[g[0]]), (g[1], records[g[1]])) for g in entity.values() if len(g) > 1 and g[0] < g[1]
    ]
    pairs += [((a, records[a]), (b, records[b])) for a, b in zip(ids, reversed(ids), strict=False) if a < b]

    ours = pair_scores(matcher, pairs)
    theirs = matcher.score(pairs)

    assert len(ours) == len(theirs) > 100
    assert np.array_equal(ours["pairs"], theirs["pairs"])
    np.testing.assert_allclose(ours["score"], theirs["score"], rtol=0, atol=1e-6)
    assert ours["score"].max() > 0.9 and ours["score"].min() < 0.1  # both kinds were scored


def test_no_pairs_no_scores(tmp_path):
    trained(tmp_path, parties=100)
    matcher = matcher_load(MatcherModel.objects.get(is_active=True))
    assert len(pair_scores(matcher, [])) == 0


def test_the_dedupe_internals_the_scoring_reads_are_still_there():
    """``scoring._distances`` and ``classifier.columns_of`` read dedupe's private DataModel
    internals; dedupe is pinned to the exact version they were written for. An upgrade that
    moves them must fail here, by name, not somewhere deep in a match run."""
    import importlib.metadata

    import dedupe

    from matching.fields import variables

    assert importlib.metadata.version("dedupe") == "3.0.3", "re-check the internals below, then the pin"
    data_model = dedupe.Dedupe(variables(), num_cores=1).data_model
    comparators = list(data_model._field_comparators)
    assert comparators and all(len(item) == 4 for item in comparators)  # field, compare, start, stop
    assert isinstance(list(data_model._missing_field_indices), list)
    import numpy as np

    filled = data_model._add_derived_distances(np.full((1, len(data_model)), np.nan, "f4"))
    assert filled.shape == (1, len(data_model)) and not np.isnan(filled).any()  # missing → 0, flags set
