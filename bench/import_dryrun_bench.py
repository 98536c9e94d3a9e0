"""Benchmark: an import's preview (dry run) against the real import of the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/import_dryrun_bench.py --rows 100000            # flushes that database!
    ... --matcher 2000     # first a trained matcher over 2,000 demo customers and a full match run,
                           # so the preview also scores the file's new customers

The file is import_bench's (var/bench-<rows>.csv, generated once). One process does, on a freshly
flushed database: create the draft, preview it (timed), check that no table changed, start it
and run it (timed, in-process like ``import_source --sync``), and compare the preview's counts
with the job's. Target: the preview takes at most twice the real import's time.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def _table_counts() -> dict[str, int]:
    from django.apps import apps

    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and m._meta.label != "parties.ImportJob"
    }


def _matcher(customers: int, tmp: Path) -> None:
    """A trained matcher and a full run over ``customers`` demo customers (tests' recipe)."""
    from django.core.management import call_command

    from tests.matching.helpers import trained

    tmp.mkdir(parents=True, exist_ok=True)
    trained(tmp, parties=customers, seed=11)
    call_command("rematch", "--sync")


def main() -> None:
    parser = argparse.ArgumentParser(description="Import preview (dry run) benchmark")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--matcher", type=int, default=0, help="Demo customers to train a matcher on first (0: none)."
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("give DATABASE_URL=postgres://… (a database this benchmark may flush)")
    env = {"DJANGO_SETTINGS_MODULE": "c360.settings.local", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "manage.py", "flush", "--noinput"], cwd=ROOT, env={**os.environ, **env}, check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    from bench.import_bench import generate

    path = ROOT / "var" / f"bench-{args.rows}.csv"
    if not path.exists():
        generate(path, args.rows)
    _django(env)
    from django.conf import settings

    from parties.models import ImportJob, SourceSystem
    from parties.services.imports.dry_run import import_job_dry_run, import_job_dry_run_request
    from parties.services.imports.jobs import import_job_run, import_job_start
    from parties.services.imports.submit import import_submit

    if args.matcher:
        started = time.perf_counter()
        _matcher(args.matcher, ROOT / "var" / "bench-dryrun-matcher")
        print(
            f"matcher      : trained on {args.matcher:,} demo customers + full run in "
            f"{time.perf_counter() - started:.1f}s"
        )
    source, _ = SourceSystem.objects.get_or_create(name="Bench CRM")
    with path.open("rb") as stream:
        job = import_submit(stream=stream, original_name=path.name, kind="parties", source=source)

    before = _table_counts()
    import_job_dry_run_request(job=job, enqueue=False)
    started = time.perf_counter()
    job = import_job_dry_run(job_id=job.pk)
    preview_seconds = time.perf_counter() - started
    report = job.dry_run_report
    if job.dry_run_status != "succeeded":
        raise SystemExit(f"preview failed: {report.get('error')}")
    changed = {k: (before[k], v) for k, v in _table_counts().items() if before.get(k) != v}
    if changed:
        raise SystemExit(f"the preview wrote rows: {changed}")

    job = import_job_start(job=ImportJob.objects.get(pk=job.pk), enqueue=False)
    started = time.perf_counter()
    job = import_job_run(job_id=job.pk)
    import_seconds = time.perf_counter() - started
    real = {
        "created": job.rows_created,
        "updated": job.rows_updated,
        "unchanged": job.rows_unchanged,
        "rejected": job.rows_rejected,
    }
    same = all(report[k] == v for k, v in real.items())
    load = os.getloadavg()
    print(f"machine      : {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database     : {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"file         : {args.rows:,} rows, {path.stat().st_size / 1024**2:,.1f} MB")
    print(
        f"preview      : {report['created']:,} created, {report['updated']:,} updated, "
        f"{report['unchanged']:,} unchanged, {report['rejected']:,} rejected; matcher: {report['matcher']}"
    )
    print(f"import       : {real} (the preview's counts {'match' if same else 'DIFFER'})")
    print(
        f"preview s    : {preview_seconds:.1f} (of which importing {report.get('import_seconds', 0):.1f}, "
        f"the matcher {preview_seconds - report.get('import_seconds', 0):.1f})"
    )
    print(f"import s     : {import_seconds:.1f}")
    print(f"ratio        : {preview_seconds / import_seconds:.2f} (target: at most 2)")
    print(f"nothing written by the preview: checked {len(before)} tables")
    print(f"load average : {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (at the end)")


if __name__ == "__main__":
    main()
