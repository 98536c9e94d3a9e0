"""Benchmark: how good is the matcher after 20, 50 and 100 labels, judged by the worst of
several training sessions (dedupe's active learning is unseeded).

Each session starts from a fresh database with `seed_demo` data and its truth file, then
plays a steward who answers the training page's questions truthfully: the pairs come from
the product's own queue (``training_pairs_refresh``), the answers are stored as labels, and
at each checkpoint the matcher is trained (``matcher_train``), a full match is run, and the
suggestions are scored against the truth with ``evaluate_matches``' code.

    .venv/bin/python bench/matching_quality.py [--parties 2000] [--sessions 3]
        [--checkpoints 20,50,100]

Uses a throw-away SQLite file under var/ unless DATABASE_URL is set (that database is
flushed!).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")
    if not os.environ.get("DATABASE_URL"):
        db = ROOT / "var" / "bench-quality.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import django

    django.setup()


def _session(args, number: int, checkpoints: list[int]) -> list[dict]:
    from django.core.management import call_command

    from matching.models import Label, TrainingPair
    from matching.services.evaluation import predicted_clusters, scores_compute, truth_read
    from matching.services.runs import match_run_execute, match_run_request
    from matching.services.training import (
        MIN_DISTINCT_LABELS,
        MIN_MATCH_LABELS,
        label_counts,
        matcher_train,
        training_pair_answer,
        training_pair_next,
        training_pairs_refresh,
    )

    call_command("flush", "--noinput", verbosity=0)
    truth_path = ROOT / "var" / f"bench-quality-truth-{number}.csv"
    call_command("seed_demo", parties=args.parties, sources=3, seed=args.seed, truth=truth_path,
                 verbosity=0)
    truth = truth_read(truth_path.open())
    entity = {}
    with truth_path.open() as handle:
        for row in csv.DictReader(handle):
            entity[(row["source"], row["source_key"])] = row["entity_id"]

    results = []
    asked = 0
    started = time.perf_counter()
    for checkpoint in checkpoints:
        while sum(label_counts()) < checkpoint:
            pair = training_pair_next()
            if pair is None:
                if not training_pairs_refresh(count=10):
                    break  # the learner has nothing left to ask
                continue
            same = (entity[(pair.record_a.source_system.name, pair.record_a.source_key)]
                    == entity[(pair.record_b.source_system.name, pair.record_b.source_key)])
            training_pair_answer(pair_id=pair.pk, label=Label.MATCH if same else Label.DISTINCT,
                                 user=None)
            asked += 1
        matches, distincts = label_counts()
        if matches < MIN_MATCH_LABELS or distincts < MIN_DISTINCT_LABELS:
            results.append({"labels": matches + distincts, "note": f"{matches} match / {distincts} distinct"})
            continue
        train_started = time.perf_counter()
        matcher_train()
        train_seconds = time.perf_counter() - train_started
        run = match_run_request(party_ids=None, queue=False)
        run = match_run_execute(run_id=run.pk, inline=True)
        scores = scores_compute(predicted_clusters(), truth)
        results.append({"labels": matches + distincts, "match": matches, "distinct": distincts,
                        "precision": scores.pairwise_precision, "recall": scores.pairwise_recall,
                        "f1": scores.pairwise_f1, "bcubed_p": scores.bcubed_precision,
                        "bcubed_r": scores.bcubed_recall, "train_s": train_seconds,
                        "candidates": run.candidate_pairs, "suggestions": run.clusters})
        print(f"  session {number} · {matches + distincts:>3} labels ({matches} match / "
              f"{distincts} distinct): P {scores.pairwise_precision:.3f} "
              f"R {scores.pairwise_recall:.3f} F1 {scores.pairwise_f1:.3f} · B-cubed P "
              f"{scores.bcubed_precision:.3f} R {scores.bcubed_recall:.3f} · "
              f"{run.candidate_pairs:,} candidate pairs, {run.clusters} suggestions · "
              f"trained in {train_seconds:.0f} s · {time.perf_counter() - started:.0f} s so far",
              flush=True)
    TrainingPair.objects.all().delete()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=2000, help="seed_demo customers")
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--checkpoints", default="20,50,100")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from parties.models import SourceRecord

    print(f"machine      : {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {os.environ['DATABASE_URL'].split(':', 1)[0]}")
    started = time.perf_counter()
    sessions = []
    for number in range(1, args.sessions + 1):
        sessions.append(_session(args, number, checkpoints))
    print(f"data         : seed_demo --parties {args.parties} --seed {args.seed} "
          f"({SourceRecord.objects.count():,} source records)")
    print("worst of sessions (pairwise F1; precision and recall of that session):")
    for index, checkpoint in enumerate(checkpoints):
        rows = [s[index] for s in sessions if index < len(s) and "f1" in s[index]]
        if not rows:
            notes = "; ".join(s[index].get("note", "") for s in sessions if index < len(s))
            print(f"  {checkpoint:>3} labels: too few of one kind to train ({notes})")
            continue
        worst = min(rows, key=lambda r: r["f1"])
        print(f"  {checkpoint:>3} labels: F1 {worst['f1']:.3f} (P {worst['precision']:.3f}, "
              f"R {worst['recall']:.3f}); best F1 {max(r['f1'] for r in rows):.3f}")
    print(f"seconds      : {time.perf_counter() - started:.0f}")
    print(f"peak memory  : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
