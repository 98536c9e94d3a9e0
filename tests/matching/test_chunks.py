"""A run's work is split into chunks that any worker may take: every candidate pair is
scored exactly once however the parties are cut, and one run works at a time."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from matching.models import MatchRun, MatchRunChunk, RunPhase, RunStatus
from matching.services import runs
from matching.services.runs import RunBusy, match_run_execute, match_run_request
from parties.models import Party
from tests.matching.helpers import trained


def _run(**kwargs) -> MatchRun:
    run = match_run_request(queue=False, **kwargs)
    return match_run_execute(run_id=run.pk, inline=True)


@pytest.mark.django_db
def test_chunks_partition_the_work_exactly(tmp_path, monkeypatch):
    trained(tmp_path, parties=200, seed=4)
    whole = _run(party_ids=None)
    assert MatchRunChunk.objects.filter(run=whole).count() == 2  # one per phase

    monkeypatch.setattr(runs, "CHUNK_PARTIES", 37)
    sliced = _run(party_ids=None)
    chunks = MatchRunChunk.objects.filter(run=sliced)
    parties = Party.objects.active().count()
    expected = -(-parties // 37)
    assert chunks.filter(phase=RunPhase.FINGERPRINTING).count() == expected
    assert chunks.filter(phase=RunPhase.SCORING).count() == expected
    assert all(c.done_at and c.seconds is not None for c in chunks)
    assert sliced.status == RunStatus.SUCCEEDED and sliced.parties_blocked == parties
    assert sliced.candidate_pairs == whole.candidate_pairs  # no pair lost or scored twice
    assert sliced.pairs_kept == whole.pairs_kept
    assert set(sliced.phase_seconds) == {"fingerprinting", "scoring", "clustering"}
    assert sliced.threshold_curve[0]["threshold"] == 0.2
    assert [p["pairs"] for p in sliced.threshold_curve] == sorted(
        (p["pairs"] for p in sliced.threshold_curve), reverse=True
    )

    # an incremental run over some parties, cut into chunks, owns each touching pair once
    some = list(Party.objects.active().order_by("?").values_list("pk", flat=True)[:60])
    one_chunk = _run(party_ids=some)
    monkeypatch.setattr(runs, "CHUNK_PARTIES", 7)
    many_chunks = _run(party_ids=some)
    assert MatchRunChunk.objects.filter(run=many_chunks, phase=RunPhase.SCORING).count() == 9
    assert many_chunks.candidate_pairs == one_chunk.candidate_pairs > 0
    assert many_chunks.parties_blocked == 60


@pytest.mark.django_db
def test_one_run_at_a_time(tmp_path):
    trained(tmp_path, parties=120, seed=5)
    first = match_run_request(party_ids=None, queue=False)
    MatchRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING, heartbeat_at=timezone.now())
    second = MatchRun.objects.create(full=True)
    with pytest.raises(RunBusy, match=f"Match run #{first.pk} is still running"):
        match_run_execute(run_id=second.pk, inline=True)
    assert MatchRun.objects.get(pk=second.pk).status == RunStatus.QUEUED  # it waits

    # a run whose worker went silent is given up, and the waiting one proceeds
    MatchRun.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now() - runs.STALE_AFTER * 2)
    assert match_run_execute(run_id=second.pk, inline=True).status == RunStatus.SUCCEEDED
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED and "worker was lost" in first.error


@pytest.mark.django_db
def test_rematch_command_reports_phases(tmp_path, capsys):
    trained(tmp_path, parties=120, seed=5)
    call_command("rematch", "--sync")
    out = capsys.readouterr().out
    assert "(full)" in out and "seconds per phase: fingerprinting" in out and "clustering" in out


@pytest.mark.django_db
def test_oversized_blocks_are_left_out_of_candidate_pairs(tmp_path, settings):
    from matching.models import OversizedBlock

    trained(tmp_path, parties=200, seed=4)
    everything = _run(party_ids=None)
    assert everything.oversized_blocks == 0 and not OversizedBlock.objects.exists()

    from django.db.models import Count

    from matching.models import BlockKey

    sizes = sorted(BlockKey.objects.values("block_key").annotate(n=Count("pk")).values_list("n", flat=True))
    cap = sizes[-1] - 1  # only the biggest blocks are too big
    settings.C360_MATCHING_MAX_BLOCK = cap
    capped = _run(party_ids=None)
    assert capped.oversized_blocks == OversizedBlock.objects.count() == sizes.count(sizes[-1])
    assert all(block.parties > cap for block in OversizedBlock.objects.all())
    assert capped.candidate_pairs < everything.candidate_pairs
