"""Shared set-up for matching tests: demo data with its truth file and a trained model."""

from __future__ import annotations

import csv
from collections import defaultdict

from django.core.management import call_command


def trained(tmp_path, *, parties: int = 400, seed: int = 3):
    """Demo data, 25 known duplicates and 25 known non-duplicates as labels, a trained model."""
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=parties, sources=3, seed=seed, truth=truth)
    groups = defaultdict(list)
    for row in csv.DictReader(truth.open()):
        groups[row["entity_id"]].append((row["source"], row["source_key"]))
    multi = [g for g in groups.values() if len(g) > 1]
    singles = [g[0] for g in groups.values() if len(g) == 1]
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
        writer.writerows([*g[0], *g[1], "match"] for g in multi[:25])
        writer.writerows([*singles[i], *singles[i + 1], "distinct"] for i in range(0, 50, 2))
    call_command("import_labels", str(labels))
    call_command("train_matcher", "--sync")
    return truth
