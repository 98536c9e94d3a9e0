"""Benchmark: seed_demo at scale on a fresh database.

Prints records/s, seconds and the worker's peak memory. Uses DATABASE_URL when set (e.g. a
PostgreSQL database that this script may drop and recreate), otherwise a throw-away SQLite
file under var/.

    .venv/bin/python bench/seed_demo_bench.py [--parties 10000] [--sources 3] [--seed 1]
        [--truth var/bench/truth-1m.csv] [--no-analyze]

``--truth`` writes the generator's truth file (source,source_key,entity_id) for
``manage.py evaluate_matches``; on PostgreSQL the tables are vacuumed and analyzed afterwards
(as a match benchmark wants them), timed separately.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--truth", type=Path, default=None, help="write the truth file here")
    parser.add_argument("--no-analyze", action="store_true", help="skip VACUUM ANALYZE (PostgreSQL)")
    args = parser.parse_args()

    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        db = ROOT / "var" / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        subprocess.run(
            [sys.executable, "manage.py", "flush", "--noinput"],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
        )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    started = time.perf_counter()
    truth = ["--truth", str(args.truth.resolve())] if args.truth else []
    result = subprocess.run(
        [
            *manage,
            "seed_demo",
            "--parties",
            str(args.parties),
            "--sources",
            str(args.sources),
            "--seed",
            str(args.seed),
            *truth,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    records = int(result.stdout.split("Seeded ")[1].split(" ")[0])
    analyze_s = None
    if env["DATABASE_URL"].startswith("postgres") and not args.no_analyze:
        analyzed = time.perf_counter()
        subprocess.run(
            [*manage, "dbshell", "--", "-c", "VACUUM ANALYZE"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        analyze_s = time.perf_counter() - analyzed

    engine = env["DATABASE_URL"].split(":", 1)[0]
    print(f"machine      : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database     : {engine}")
    print(f"customers    : {args.parties:,} in {args.sources} sources")
    print(f"records      : {records:,}")
    print(f"seconds      : {seconds:.1f} (incl. process start and data generation)")
    print(f"records/s    : {records / seconds:,.0f}")
    print(f"peak memory  : {peak_mb:,.0f} MB")
    if args.truth:
        print(f"truth file   : {args.truth} ({result.stdout.split('Truth file: ')[1].strip()})")
    if analyze_s is not None:
        print(f"VACUUM ANALYZE: {analyze_s:.1f} s")


if __name__ == "__main__":
    main()
