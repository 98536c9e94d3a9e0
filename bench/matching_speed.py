"""Benchmark: a full match run and an incremental one on a large database, through real
Celery workers, with the time per phase and the workers' peak memory.

    # 1. data: seed_demo at scale into a PostgreSQL database (flushed!)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/seed_demo_bench.py --parties 720000
    # 2. a model: bench/matching_quality.py leaves one trained on 100 labels in
    #    var/bench-quality.sqlite3 (or pass --model-db)
    # 3. this script: copies that model in, runs a full match, then imports --new copies of
    #    existing customers under fresh source keys and times the incremental run it starts
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/matching_speed.py [--workers 2] [--new 1000] [--skip-full]

Training is excluded (the model is copied in), as the targets ask.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class MemoryWatch(threading.Thread):
    """Peak resident memory of the worker processes (and their children), from /proc."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak_mb, self.stop = pids, 0.0, threading.Event()

    def _tree(self) -> list[int]:
        found, todo = [], list(self.pids)
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(c) for c in children)
        return found

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                except OSError:
                    pass
            time.sleep(0.2)


def _model_copy(model_db: Path) -> None:
    from matching.models import MatcherModel

    if not model_db.exists():
        sys.exit(f"{model_db} not found: run bench/matching_quality.py first, or pass --model-db")
    with sqlite3.connect(model_db) as db:
        row = db.execute("SELECT settings_blob, labels_match, labels_distinct, training_seconds "
                         "FROM matching_matchermodel WHERE is_active").fetchone()
    if row is None:
        sys.exit(f"{model_db} holds no active model")
    MatcherModel.objects.filter(is_active=True).update(is_active=False)
    MatcherModel.objects.create(settings_blob=row[0], labels_match=row[1], labels_distinct=row[2],
                                training_seconds=row[3], is_active=True)


def _workers(count: int, queue: str, log_dir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "C360_CELERY_QUEUE": queue}
    return [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "c360", "worker", "--pool=solo", "--queues", queue,
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--hostname", f"bench{i}-{uuid.uuid4().hex[:4]}@%h"],
        cwd=ROOT, env=env, stdout=(log_dir / f"worker{i}.log").open("w"), stderr=subprocess.STDOUT)
        for i in range(count)]


def _report(title: str, run, seconds: float, peak_mb: float) -> None:
    print(f"{title}: {run} {run.status} in {seconds:.1f} s "
          f"({run.parties_blocked:,} parties fingerprinted, {run.block_keys:,} block keys, "
          f"{run.candidate_pairs:,} candidate pairs, {run.pairs_scored:,} scored, {run.pairs_kept:,} kept, "
          f"{run.clusters:,} suggestions, {run.chunks_total} scoring chunks)")
    print("  seconds per phase: " + ", ".join(
        f"{k} {run.phase_seconds[k]:.1f}" for k in ("fingerprinting", "scoring", "clustering")
        if k in run.phase_seconds))
    if run.chunks_over_budget:
        print(f"  pair budget {run.pair_budget} a party: {run.chunks_over_budget} of {run.chunks_total} "
              f"chunks over it kept at least {run.partner_cap} closest partners a party")
    print(f"  workers' peak memory (largest process): {peak_mb:,.0f} MB")
    if run.error:
        print(f"  error: {run.error}")


def _new_copies(count: int, path: Path) -> int:
    """``count`` existing customers written again under fresh source keys (as a new shop's
    export would), in the canonical import format."""
    from parties.columns import CANONICAL_COLUMNS
    from parties.models import SourceRecord

    last = SourceRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(5)
    picks = sorted(rng.sample(range(1, last + 1), min(last, count * 2)))
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CANONICAL_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for record in SourceRecord.objects.filter(pk__in=picks).iterator():
            if rows == count:
                break
            raw = {k: v for k, v in (record.raw_payload or {}).items() if k in CANONICAL_COLUMNS}
            raw["source_key"] = f"BENCH-NEW-{uuid.uuid4().hex[:12]}"
            writer.writerow(raw)
            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--new", type=int, default=1000, help="new parties for the incremental run")
    parser.add_argument("--model-db", type=Path, default=ROOT / "var" / "bench-quality.sqlite3")
    parser.add_argument("--skip-full", action="store_true",
                        help="only the incremental run (needs a full run's block keys)")
    parser.add_argument("--skip-incremental", action="store_true", help="only the full run")
    parser.add_argument("--budget", type=int, default=None,
                        help="candidate pairs per party (C360_MATCHING_PAIR_BUDGET; 0: none)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database holding bench data")
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL (the workers need a broker)")
    if args.budget is not None:
        os.environ["C360_MATCHING_PAIR_BUDGET"] = str(args.budget)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    os.environ["C360_CELERY_QUEUE"] = queue
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    from matching.models import MatchRun, RunStatus
    from matching.services.runs import match_run_request, run_wait
    from parties.models import Party, SourceSystem

    call_command("migrate", verbosity=0)
    _model_copy(args.model_db)
    MatchRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, error="abandoned by an earlier benchmark")
    print(f"machine      : {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, PostgreSQL, {args.workers} worker process(es)")
    print(f"parties      : {Party.objects.active().count():,} active")

    log_dir = ROOT / "var" / "bench-workers"
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = _workers(args.workers, queue, log_dir)
    watch = MemoryWatch([w.pid for w in workers])
    watch.start()
    try:
        if not args.skip_full:
            started = time.perf_counter()
            run = match_run_request(party_ids=None)
            run = run_wait(run.pk, poll=0.5)
            _report("full run", run, time.perf_counter() - started, watch.peak_mb)

        if args.skip_incremental:
            return
        watch.peak_mb = 0.0
        path = log_dir / "new-customers.csv"
        rows = _new_copies(args.new, path)
        source, _ = SourceSystem.objects.get_or_create(name="Bench new shop",
                                                       defaults={"kind": "ecommerce"})
        started = time.perf_counter()
        call_command("import_source", str(path), source=source.name, sync=True, verbosity=0)
        imported = time.perf_counter() - started
        run = MatchRun.objects.filter(full=False).order_by("-pk").first()
        if run is None:
            sys.exit("the import queued no incremental run")
        run = run_wait(run.pk, poll=0.2)
        print(f"import of {rows:,} new customers: {imported:.1f} s")
        _report("incremental run", run, run.duration_seconds or 0.0, watch.peak_mb)
    finally:
        watch.stop.set()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()
