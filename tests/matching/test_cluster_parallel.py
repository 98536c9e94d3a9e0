"""A large run prepares its suggestions' evidence and queue facets in a pool of processes
(the 1M run's clustering phase spent most of its time there, on one core). What the pool
prepares is what one process prepares: a run made in parallel, then run again in one process,
finds every suggestion unchanged (same ids, same content digest)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from matching.models import MatchSuggestion, SuggestionStatus
from matching.services.suggestions import clusters_prepare, clusters_prepared
from tests.matching.helpers import trained

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pools(monkeypatch):
    import billiard.pool

    made = []

    class CountedPool(billiard.pool.Pool):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(billiard.pool, "Pool", CountedPool)
    return made


def _pending() -> dict[int, tuple]:
    return {
        s.pk: (
            sorted(s.members.values_list("party_id", flat=True)),
            s.score,
            s.evidence,
            s.risk,
            s.content_digest,
        )
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    }


def test_a_run_prepared_in_a_pool_saves_what_one_process_would(tmp_path, settings, pools):
    trained(tmp_path, parties=150, seed=6)
    settings.C360_MATCHING_CLUSTER_PROCESSES = 2
    settings.C360_MATCHING_PARALLEL_MIN_CLUSTERS = 0
    call_command("rematch", "--full", "--sync", verbosity=0)
    assert pools, "the run should have prepared its suggestions in a pool"
    parallel = _pending()
    assert len(parallel) > 10

    settings.C360_MATCHING_CLUSTER_PROCESSES = 1
    call_command("rematch", "--full", "--sync", verbosity=0)

    assert len(pools) == 1
    assert _pending() == parallel  # kept, each with the content the pool prepared


def test_the_pool_yields_every_batch_in_order(tmp_path, settings, pools, monkeypatch):
    from matching.services import suggestions

    trained(tmp_path, parties=150, seed=6)
    call_command("rematch", "--full", "--sync", verbosity=0)
    clusters = [
        (tuple(s.members.values_list("party_id", flat=True)), [s.score] * s.size)
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).order_by("pk")
    ]
    monkeypatch.setattr(suggestions, "BATCH", 7)  # several batches, more than the pool holds at once
    settings.C360_MATCHING_CLUSTER_PROCESSES = 2
    settings.C360_MATCHING_PARALLEL_MIN_CLUSTERS = 0

    prepared = list(clusters_prepared(None, clusters))

    assert pools
    inline = [clusters_prepare(None, clusters[start : start + 7]) for start in range(0, len(clusters), 7)]
    assert prepared == inline
