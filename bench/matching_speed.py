"""Benchmark: a full match run and an incremental one on a large database, through real
Celery workers, with the time per phase and the workers' peak memory.

    # 1. data: seed_demo at scale into a PostgreSQL database (flushed!)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/seed_demo_bench.py --parties 720000
    # 2. a model: bench/matching_quality.py leaves one trained on 100 labels in
    #    var/bench-quality.sqlite3 (or pass --model-db); or one trained on this database
    #    (--model-db none: the active model there is used as it is), e.g. from labels drawn at
    #    random from the seeding's truth file, as bench/matching_quality.py's random path does:
    .venv/bin/python bench/matching_speed.py --write-labels var/bench/labels.csv \\
        --truth var/bench/truth-1m.csv [--labels 100]
    .venv/bin/python manage.py import_labels var/bench/labels.csv
    .venv/bin/python manage.py train_matcher --sync
    # 3. this script: copies that model in, runs a full match, then imports --new copies of
    #    existing customers under fresh source keys and times the incremental run it starts
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/matching_speed.py [--workers 2] [--new 1000] [--skip-full]
        [--model-db none] [--json var/bench/speed.json]
    # 4. where a scoring chunk's time goes: cProfile of chunk_score on one chunk of the last
    #    full run, in this process (its block keys must still be there)
    .venv/bin/python bench/matching_speed.py --profile-chunk 0 [--profile-out var/bench/chunk.prof]

Training is excluded (the model is copied in, or trained beforehand), as the targets ask.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
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
        self.peaks: dict[int, float] = dict.fromkeys(pids, 0.0)  # per worker (with its children)

    def reset(self) -> None:
        self.peak_mb = 0.0
        self.peaks = dict.fromkeys(self.pids, 0.0)

    def cpu_seconds(self) -> float:
        """User + system CPU the workers (and their children) used so far: what the run cost
        whatever else the machine was doing."""
        total = 0
        for root in self.pids:
            for pid in self._tree(root):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def _tree(self, root: int) -> list[int]:
        found, todo = [], [root]
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
            for root in self.pids:
                for pid in self._tree(root):
                    try:
                        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                            if line.startswith("VmRSS:"):
                                mb = int(line.split()[1]) / 1024
                                self.peak_mb = max(self.peak_mb, mb)
                                self.peaks[root] = max(self.peaks[root], mb)
                    except OSError:
                        pass
            time.sleep(0.2)


def _model_copy(model_db: Path | None) -> None:
    """Copy the active model of ``model_db`` in as the active one; None: use the database's
    own active model (trained on it)."""
    from matching.models import MatcherModel

    if model_db is None:
        if not MatcherModel.objects.filter(is_active=True).exists():
            sys.exit("--model-db none: this database holds no active model (train_matcher first)")
        return
    if not model_db.exists():
        sys.exit(f"{model_db} not found: run bench/matching_quality.py first, or pass --model-db")
    with sqlite3.connect(model_db) as db:
        row = db.execute(
            "SELECT settings_blob, labels_match, labels_distinct, training_seconds "
            "FROM matching_matchermodel WHERE is_active"
        ).fetchone()
    if row is None:
        sys.exit(f"{model_db} holds no active model")
    MatcherModel.objects.filter(is_active=True).update(is_active=False)
    MatcherModel.objects.create(
        settings_blob=row[0],
        labels_match=row[1],
        labels_distinct=row[2],
        training_seconds=row[3],
        is_active=True,
    )


def _workers(count: int, queue: str, log_dir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "C360_CELERY_QUEUE": queue}
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "c360",
                "worker",
                "--pool=solo",
                "--queues",
                queue,
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"bench{i}-{uuid.uuid4().hex[:4]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=(log_dir / f"worker{i}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(count)
    ]


def _git() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    diff = git("diff", "HEAD", "--", "matching", "parties")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [
            line[3:] for line in git("status", "--porcelain", "--", "matching", "parties").splitlines()
        ],
        "uncommitted_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
    }


def _run_summary(run, seconds: float, peak_mb: float, peaks: dict[int, float], cpu_seconds: float) -> dict:
    """Everything the report needs about one run, for the JSON summary."""
    from matching.models import MatchRunChunk, RunPhase

    chunks = {}
    for phase in (RunPhase.FINGERPRINTING, RunPhase.SCORING):
        rows = list(
            MatchRunChunk.objects.filter(run=run, phase=phase)
            .order_by("index")
            .values(
                "index",
                "first_party",
                "last_party",
                "seconds",
                "parties",
                "keys",
                "candidate_pairs",
                "pairs_scored",
                "pairs_kept",
                "partner_cap",
                "worker",
            )
        )
        secs = [r["seconds"] or 0.0 for r in rows]
        chunks[str(phase)] = {
            "count": len(rows),
            "seconds_sum": round(sum(secs), 1),
            "seconds_max": round(max(secs, default=0.0), 1),
            "rows": rows,
        }
    return {
        "run_id": run.pk,
        "status": run.status,
        "error": run.error,
        "full": run.full,
        "wall_seconds": round(seconds, 1),
        "duration_seconds": run.duration_seconds,
        "phase_seconds": run.phase_seconds,
        "parties_total": run.parties_total,
        "parties_blocked": run.parties_blocked,
        "block_keys": run.block_keys,
        "oversized_blocks": run.oversized_blocks,
        "candidate_pairs": run.candidate_pairs,
        "pairs_scored": run.pairs_scored,
        "pairs_kept": run.pairs_kept,
        "suggestions": run.clusters,
        "auto_merged": run.auto_merged,
        "pair_budget": run.pair_budget,
        "chunks_over_budget": run.chunks_over_budget,
        "partner_cap": run.partner_cap,
        "threshold": run.threshold,
        "model_id": run.model_id,
        "rules": getattr(run, "rules", None),
        "workers_peak_mb": round(peak_mb),
        "workers_peak_mb_each": {str(k): round(v) for k, v in peaks.items()},
        "workers_cpu_seconds": round(cpu_seconds, 1),
        "loadavg_end": Path("/proc/loadavg").read_text().split()[:3],
        "chunks": chunks,
    }


def _report(title: str, run, seconds: float, peak_mb: float) -> None:
    print(
        f"{title}: {run} {run.status} in {seconds:.1f} s "
        f"({run.parties_blocked:,} parties fingerprinted, {run.block_keys:,} block keys, "
        f"{run.candidate_pairs:,} candidate pairs, {run.pairs_scored:,} scored, {run.pairs_kept:,} kept, "
        f"{run.clusters:,} suggestions, {run.chunks_total} scoring chunks)"
    )
    print(
        "  seconds per phase: "
        + ", ".join(
            f"{k} {run.phase_seconds[k]:.1f}"
            for k in ("fingerprinting", "scoring", "clustering")
            if k in run.phase_seconds
        )
    )
    if run.chunks_over_budget:
        print(
            f"  pair budget {run.pair_budget} a party: {run.chunks_over_budget} of {run.chunks_total} "
            f"chunks over it kept at least {run.partner_cap} closest partners a party"
        )
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


def _labels_write(args) -> None:
    """A label file drawn at random from the truth, as bench/matching_quality.py's random
    path draws it (its ``random_labels``: 40 % matches, the rest random pairs of records of
    two entities), over the records this database holds."""
    if not args.truth:
        sys.exit("--write-labels needs --truth (the seeding's truth file)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")
    import django

    django.setup()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from matching_quality import Dataset, random_labels

    from matching.services.evaluation import truth_read
    from parties.models import SourceRecord

    with args.truth.open(encoding="utf-8") as handle:
        truth = truth_read(handle)
    records = [
        key
        for key in SourceRecord.objects.values_list("source_system__name", "source_key").iterator(
            chunk_size=20_000
        )
        if key in truth
    ]
    text, matches, distincts = random_labels(
        Dataset("scale", truth, 0.0, {}, records), args.labels, seed=args.label_seed
    )
    args.write_labels.parent.mkdir(parents=True, exist_ok=True)
    args.write_labels.write_text(text, encoding="utf-8")
    print(
        f"{args.write_labels}: {matches} match + {distincts} distinct labels from {args.truth} "
        f"({len(records):,} records in the database and the truth; seed {args.label_seed})"
    )


def _profile_chunk(args) -> None:
    """cProfile of ``chunk_score`` on one scoring chunk of the last full run (its range and
    pair budget), in this process; its rows are written under the run and deleted again."""
    import cProfile
    import pstats

    from matching.models import MatchRun, MatchRunChunk, RunPhase, RunStatus, ScoredPair
    from matching.services.runs import _matcher
    from matching.services.scoring import chunk_score

    run = MatchRun.objects.filter(full=True, status=RunStatus.SUCCEEDED).order_by("-pk").first()
    if run is None:
        sys.exit("no successful full run to profile")
    chunk = MatchRunChunk.objects.get(run=run, phase=RunPhase.SCORING, index=args.profile_chunk)
    matcher = _matcher(run.model_id)  # loaded outside the profile, as a worker holds it
    index = 100_000 + args.profile_chunk
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    result = chunk_score(
        matcher,
        run_id=run.pk,
        chunk=index,
        first=chunk.first_party,
        last=chunk.last_party,
        budget=run.pair_budget,
    )
    profile.disable()
    seconds = time.perf_counter() - started
    ScoredPair.objects.filter(run_id=run.pk, chunk=index).delete()
    print(
        f"chunk_score on {run} scoring chunk {chunk.index} (parties {chunk.first_party}-"
        f"{chunk.last_party}; in the run {chunk.seconds:.1f} s): {seconds:.1f} s, {result}"
    )
    if args.profile_out:
        profile.dump_stats(str(args.profile_out))
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--new", type=int, default=1000, help="new parties for the incremental run")
    parser.add_argument(
        "--model-db",
        default=str(ROOT / "var" / "bench-quality.sqlite3"),
        help="SQLite file whose active model is copied in; 'none': use the database's own active model",
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="only the incremental run (needs a full run's block keys)"
    )
    parser.add_argument("--skip-incremental", action="store_true", help="only the full run")
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="candidate pairs per party (C360_MATCHING_PAIR_BUDGET; 0: none)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write a JSON summary here")
    parser.add_argument(
        "--write-labels",
        type=Path,
        default=None,
        help="only write a label file drawn at random from --truth and exit",
    )
    parser.add_argument("--truth", type=Path, default=None, help="the seeding's truth file")
    parser.add_argument("--labels", type=int, default=100, help="labels to draw (40%% match)")
    parser.add_argument(
        "--label-seed",
        type=int,
        default=17 * 1_000_003 + 100 * 101 + 1,
        help="default: bench/matching_quality.py's seed for 100 labels, run 1",
    )
    parser.add_argument(
        "--profile-chunk",
        type=int,
        default=None,
        help="only profile chunk_score on this scoring chunk of the last full run",
    )
    parser.add_argument("--profile-out", type=Path, default=None, help="cProfile stats file")
    args = parser.parse_args()
    if args.write_labels:
        _labels_write(args)
        return
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
    from django.conf import settings
    from django.core.management import call_command

    from matching.models import MatcherModel, MatchRun, RunStatus
    from matching.services.runs import match_run_request, run_wait
    from parties.models import Party, SourceSystem

    call_command("migrate", verbosity=0)
    if args.profile_chunk is not None:
        _profile_chunk(args)
        return
    _model_copy(None if args.model_db.lower() == "none" else Path(args.model_db))
    MatchRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, error="abandoned by an earlier benchmark"
    )
    print(
        f"machine      : {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL, {args.workers} worker process(es)"
    )
    print(f"parties      : {Party.objects.active().count():,} active")

    summary: dict = {
        "argv": sys.argv[1:],
        **_git(),
        "database": os.environ["DATABASE_URL"],
        "workers": args.workers,
        "active_parties": Party.objects.active().count(),
        "pair_budget_setting": settings.C360_MATCHING_PAIR_BUDGET,
        "max_block": settings.C360_MATCHING_MAX_BLOCK,
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }
    model = MatcherModel.objects.filter(is_active=True).first()
    summary["model"] = {
        "id": model.pk,
        "labels_match": model.labels_match,
        "labels_distinct": model.labels_distinct,
        "training_seconds": model.training_seconds,
    }

    def save() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")

    log_dir = ROOT / "var" / "bench-workers"
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = _workers(args.workers, queue, log_dir)
    watch = MemoryWatch([w.pid for w in workers])
    watch.start()
    try:
        if not args.skip_full:
            started, cpu = time.perf_counter(), watch.cpu_seconds()
            run = match_run_request(party_ids=None)
            run = run_wait(run.pk, poll=0.5)
            _report("full run", run, time.perf_counter() - started, watch.peak_mb)
            summary["full"] = _run_summary(
                run, time.perf_counter() - started, watch.peak_mb, watch.peaks, watch.cpu_seconds() - cpu
            )
            print(
                f"  workers' CPU: {summary['full']['workers_cpu_seconds']:.0f} s; load average "
                f"{' '.join(summary['full']['loadavg_end'])}"
            )
            save()

        if args.skip_incremental:
            return
        watch.reset()
        cpu = watch.cpu_seconds()
        path = log_dir / "new-customers.csv"
        rows = _new_copies(args.new, path)
        source, _ = SourceSystem.objects.get_or_create(name="Bench new shop", defaults={"kind": "ecommerce"})
        started = time.perf_counter()
        call_command("import_source", str(path), source=source.name, sync=True, verbosity=0)
        imported = time.perf_counter() - started
        run = MatchRun.objects.filter(full=False).order_by("-pk").first()
        if run is None:
            sys.exit("the import queued no incremental run")
        run = run_wait(run.pk, poll=0.2)
        print(f"import of {rows:,} new customers: {imported:.1f} s")
        _report("incremental run", run, run.duration_seconds or 0.0, watch.peak_mb)
        summary["incremental"] = {
            "import_rows": rows,
            "import_seconds": round(imported, 1),
            **_run_summary(
                run, run.duration_seconds or 0.0, watch.peak_mb, watch.peaks, watch.cpu_seconds() - cpu
            ),
        }
        save()
    finally:
        watch.stop.set()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()
