"""Benchmark: seed_demo at scale on a fresh database.

Prints records/s, seconds and the worker's peak memory. Uses DATABASE_URL when set (e.g. a
PostgreSQL database that this script may drop and recreate), otherwise a throw-away SQLite
file under var/.

    .venv/bin/python bench/seed_demo_bench.py [--parties 10000] [--sources 3]
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
    args = parser.parse_args()

    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        db = ROOT / "var" / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        subprocess.run([sys.executable, "manage.py", "flush", "--noinput"], cwd=ROOT, env=env,
                       check=False, capture_output=True)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    started = time.perf_counter()
    result = subprocess.run(
        [*manage, "seed_demo", "--parties", str(args.parties), "--sources", str(args.sources),
         "--seed", "1"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    records = int(result.stdout.split("Seeded ")[1].split(" ")[0])

    engine = env["DATABASE_URL"].split(":", 1)[0]
    print(f"machine      : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database     : {engine}")
    print(f"customers    : {args.parties:,} in {args.sources} sources")
    print(f"records      : {records:,}")
    print(f"seconds      : {seconds:.1f} (incl. process start and data generation)")
    print(f"records/s    : {records / seconds:,.0f}")
    print(f"peak memory  : {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
