"""A large run builds its suggestions' evidence in a pool of spawned processes (at 1,000,000
parties the clustering phase spent most of its time on one core while the other worker idled).
What the pool builds is what one process builds; the pool's processes never touch the
database (spawned, importing nothing of Django), so they cannot share the run's connection."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command

from matching.models import MatchSuggestion, SuggestionStatus
from matching.selectors import match_records
from matching.services import suggestions
from tests.matching.helpers import trained

pytestmark = pytest.mark.django_db


@pytest.fixture
def pools(monkeypatch):
    import billiard

    made = []
    real = billiard.get_context

    def counted(method=None):
        made.append(method)
        return real(method)

    monkeypatch.setattr(billiard, "get_context", counted)
    return made


def _pending() -> dict[int, tuple]:
    return {
        s.pk: (
            sorted(s.members.values_list("party_id", flat=True)),
            s.score,
            s.evidence,
            s.risk,
            s.search_text,
            s.values_digest,
            s.content_digest,
        )
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    }


def test_a_run_built_in_a_pool_saves_what_one_process_would(tmp_path, settings, pools):
    trained(tmp_path, parties=150, seed=6)
    settings.C360_MATCHING_CLUSTER_PROCESSES = 2
    settings.C360_MATCHING_PARALLEL_MIN_CLUSTERS = 0
    call_command("rematch", "--full", "--sync", verbosity=0)
    assert pools == ["spawn"], "the run should have built its evidence in a spawned pool"
    parallel = _pending()
    assert len(parallel) > 10
    assert all(evidence["pairs"] for _, _, evidence, *_ in parallel.values())

    settings.C360_MATCHING_CLUSTER_PROCESSES = 1
    call_command("rematch", "--full", "--sync", verbosity=0)

    assert pools == ["spawn"]  # no pool the second time
    assert _pending() == parallel  # every suggestion kept, with the content the pool built


def test_the_pool_yields_every_batch_in_order(tmp_path, settings, pools, monkeypatch):
    trained(tmp_path, parties=150, seed=6)
    call_command("rematch", "--full", "--sync", verbosity=0)
    clusters = [
        (tuple(s.members.values_list("party_id", flat=True)), [s.score] * s.size)
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).order_by("pk")
    ]
    assert len(clusters) > 20
    monkeypatch.setattr(suggestions, "BATCH", 3)  # more batches than the pool holds at once
    settings.C360_MATCHING_CLUSTER_PROCESSES = 2
    settings.C360_MATCHING_PARALLEL_MIN_CLUSTERS = 0
    weights = suggestions.active_level_weights()
    assert weights

    built = list(suggestions._batches_with_evidence(clusters, weights))

    assert pools == ["spawn"]
    assert [members for members, *_ in built] == [
        [list(ids) for ids, _ in clusters[start : start + 3]] for start in range(0, len(clusters), 3)
    ]
    records = match_records({pid for ids, _ in clusters for pid in ids})
    for members, _, _, evidences, digests in built:
        expected = [suggestions.evidence_of(records, ids, weights=weights, center=ids[0]) for ids in members]
        assert evidences == expected
        assert digests == [suggestions.values_digest(e) for e in expected]


def test_the_pool_module_imports_nothing_of_django():
    """A spawned pool process imports only ``matching.cluster_evidence``: were Django in it,
    it could open (or, forked, inherit) a database connection."""
    code = (
        "import sys, matching.cluster_evidence; "
        "print(sorted(m for m in sys.modules if m.startswith('django')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
