"""Benchmark: import a large canonical CSV end to end (file copy, full-file check, parse,
standardize, upsert parties + contact points, commit) and report rows/s and peak memory.

    .venv/bin/python bench/import_bench.py --rows 100000          # SQLite under var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/import_bench.py --rows 100000       # PostgreSQL (flushed first!)

The file is generated deterministically from pools of Faker values (several locales), with
names, two emails, phones, an address and an identifier per row.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import benchlib  # noqa: E402

from parties.columns import CANONICAL_COLUMNS  # noqa: E402

LOCALES = [
    ("en_US", "US", "+1 {a} {b}"),
    ("de_DE", "DE", "+49 30 {c}"),
    ("en_GB", "GB", "+44 20 7{d}"),
    ("fr_FR", "FR", "+33 6 {e}"),
]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    pools = []
    for locale, country, _ in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        pools.append(
            {
                "given": [fake.first_name() for _ in range(300)],
                "family": [fake.last_name() for _ in range(300)],
                "street": [fake.street_address().replace("\n", ", ") for _ in range(300)],
                "city": [(fake.postcode(), fake.city()) for _ in range(200)],
                "country": country,
            }
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_COLUMNS)
        for i in range(rows):
            index = rng.randrange(len(LOCALES))
            pool, pattern = pools[index], LOCALES[index][2]
            given, family = rng.choice(pool["given"]), rng.choice(pool["family"])
            postcode, city = rng.choice(pool["city"])
            phone = pattern.format(
                a=rng.choice(["415", "212", "312", "617"]),
                b=f"{rng.randrange(200, 999)} {rng.randrange(1000, 9999)}",
                c=f"{rng.randrange(1000000, 9999999)}",
                d=f"{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                e=" ".join(str(rng.randrange(10, 99)) for _ in range(4)),
            )
            values = {
                "source_key": f"B{i:08d}",
                "party_type": "",
                "salutation": "",
                "given_name": given,
                "middle_name": "",
                "family_name": family,
                "full_name": "",
                "organization_name": "",
                "birth_date": f"{rng.randrange(1940, 2005)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d}",
                "gender": rng.choice(["F", "M", ""]),
                "email": f"{given}.{family}{i}@example.com".lower().replace(" ", ""),
                "email_2": f"{family}{i}@mail.example.org".lower().replace(" ", "") if i % 3 == 0 else "",
                "phone": phone,
                "phone_2": "",
                "address_line1": rng.choice(pool["street"]),
                "address_line2": "",
                "city": city,
                "region": "",
                "postal_code": postcode,
                "country": pool["country"],
                "identifier_type": "customer_number" if i % 2 else "",
                "identifier_value": f"CN-{i:08d}" if i % 2 else "",
                "updated_at": "2025-06-01T12:00:00Z",
            }
            writer.writerow([values[c] for c in CANONICAL_COLUMNS])


def main() -> None:
    parser = argparse.ArgumentParser(description="Import benchmark")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep-db", action="store_true", help="Do not reset the database first.")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="fail (exit 1) when job rows/s fell by more than a third below the figure recorded "
        "for this machine in bench/figures.json",
    )
    parser.add_argument(
        "--record", action="store_true", help="record this run's figure in bench/figures.json"
    )
    parser.add_argument("--no-raw", action="store_true", help="skip the raw COPY beside the import")
    args = parser.parse_args()

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="c360.settings.local", DEBUG="0", LOG_LEVEL="WARNING")
    if not env.get("DATABASE_URL"):
        db = ROOT / "var" / "bench-import.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    elif not args.keep_db:
        subprocess.run(
            [sys.executable, "manage.py", "flush", "--noinput"],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
        )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )

    path = ROOT / "var" / f"bench-{args.rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.rows)
        print(
            f"generated {path.name} ({path.stat().st_size / 1024**2:,.1f} MB) in "
            f"{time.perf_counter() - started:.1f}s"
        )

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_source", str(path), "--source", "Bench CRM", "--sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-4000:])
        raise SystemExit("import failed")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    job_seconds = (
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from parties.models import ImportJob; j = ImportJob.objects.latest('pk'); "
                "print((j.finished_at - j.started_at).total_seconds())",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith("rows read")]
    print(f"machine      : {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database     : {env['DATABASE_URL'].split(':', 1)[0]}")
    print(f"file         : {args.rows:,} rows, {path.stat().st_size / 1024**2:,.1f} MB")
    print(f"result       : {summary[0] if summary else result.stdout[-300:]}")
    print(f"seconds      : {seconds:.1f} (whole command: start, copy, check, import, commit)")
    print(f"rows/s       : {args.rows / seconds:,.0f} (whole command)")
    print(f"job seconds  : {float(job_seconds):.1f} (the job itself: check, import, commit)")
    print(f"job rows/s   : {args.rows / float(job_seconds):,.0f} (what the job page shows)")
    print(f"peak memory  : {peak_mb:,.0f} MB (largest child process)")
    if not args.no_raw:
        raw = raw_load_seconds(path, env["DATABASE_URL"])
        print(
            f"raw load     : {raw:.2f} s, {args.rows / raw:,.0f} rows/s (the same file into a plain table: "
            f"{'COPY' if env['DATABASE_URL'].startswith('postgres') else 'executemany'}); the import takes "
            f"{float(job_seconds) / raw:.0f}x as long"
        )
    name = f"import {env['DATABASE_URL'].split(':', 1)[0]} {args.rows} rows: job rows/s"
    rows_per_s = args.rows / float(job_seconds)
    ok = benchlib.figure_compare(name, rows_per_s) if args.compare else True
    if args.record:
        benchlib.figure_record(name, rows_per_s, "rows/s", peak_mb=round(peak_mb))
    if not ok:
        raise SystemExit(1)


def raw_load_seconds(path: Path, database_url: str) -> float:
    """The peer: the same CSV loaded into a plain table of text columns by the database's own
    bulk path (PostgreSQL's COPY through psycopg; SQLite: one executemany), in a transaction
    rolled back afterwards."""
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
            columns = ", ".join(f'"{c}" text' for c in CANONICAL_COLUMNS)
            cursor.execute(f"CREATE TEMP TABLE raw_load ({columns})")
            started = time.perf_counter()
            with (
                path.open("rb") as handle,
                cursor.copy("COPY raw_load FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            seconds = time.perf_counter() - started
            conn.rollback()
        return seconds
    import sqlite3

    db = ROOT / "var" / "bench-raw.sqlite3"
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    try:
        conn.execute(f"CREATE TABLE raw_load ({', '.join(chr(34) + c + chr(34) for c in CANONICAL_COLUMNS)})")
        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            marks = ", ".join("?" * len(CANONICAL_COLUMNS))
            conn.executemany(f"INSERT INTO raw_load VALUES ({marks})", reader)  # noqa: S608
        conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()
        db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
