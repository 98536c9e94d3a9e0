"""Where an import's time goes, from a py-spy profile of ``bench/import_bench.py``.

    py-spy record --idle --subprocesses --rate 50 --format raw -o var/bench/import.collapsed -- \\
        .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/profile_summary.py var/bench/import.collapsed

Counts the samples of the import command and its pool processes only (not the benchmark's own
set-up: flush, migrate), with ``--idle`` so that waiting on the database counts, and puts each
sample in the first step whose code is on its stack (most specific first).
"""

from __future__ import annotations

import collections
import sys

STEPS = [
    ("waiting for pool processes", ["_prepared_batches", "pool.py", "ApplyResult.get", "IMapIterator"]),
    ("standardize: phone numbers", ["phonenumbers/", "phone_normalize"]),
    ("standardize: emails", ["email_validator", "email_normalize"]),
    ("standardize: names, addresses, dates, identifiers", ["row_standardize", "standardize.py"]),
    ("content hash", ["content_hash"]),
    ("golden record (computed per new party)", ["golden.py"]),
    ("plans (row → party, record, contact points)", ["record_plan", "plan_render"]),
    ("outbox events", ["outbox.py"]),
    ("database: COPY / INSERT of parties, records, contact points", ["plans_write", "bulk_writer.py"]),
    ("database: other statements", ["psycopg/", "sqlite3", "django/db/"]),
    ("reading and checking the file", ["readers.py", "csv.py", "_csv"]),
    ("start-up (imports, Django set-up)", ["<frozen importlib", "django/apps/", "django/__init__"]),
]


def main(path: str) -> None:
    """Two tables: the import command's main thread (its wall time: what the job waits for),
    and the pool processes together (their wall time: standardizing, or waiting for work).
    Helper threads (the pool's result handlers, idle) are left out."""
    steps: dict[str, collections.Counter[str]] = {
        "import command, main thread": collections.Counter(),
        "pool processes": collections.Counter(),
    }
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        names = [f for f in frames if f.startswith("process ")]
        if not any("import_source" in n for n in names):
            continue  # the benchmark's own set-up
        code_frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not code_frames or code_frames[0].startswith("Thread._bootstrap"):
            continue
        code = ";".join(code_frames)
        process = "pool processes" if len(names) > 2 else "import command, main thread"
        for step, needles in STEPS:
            if step.startswith("waiting") and process == "pool processes":
                continue  # a pool process's own stack runs through multiprocessing's pool.py
            if any(needle in code for needle in needles):
                steps[process][step] += int(count_text)
                break
        else:
            leaf = code_frames[-1]
            idle = process == "pool processes" and ("billiard/connection.py" in leaf or "SemLock" in leaf)
            steps[process]["waiting for work" if idle else "other"] += int(count_text)
    for process, counter in steps.items():
        total = sum(counter.values())
        print(f"{process}: {total} samples")
        for name, count in counter.most_common():
            print(f"  {count / total:6.1%}  {name}")


if __name__ == "__main__":
    main(sys.argv[1])
