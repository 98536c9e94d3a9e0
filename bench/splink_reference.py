"""Splink 5, unsupervised, on the records of one benchmark data set: the reference column of
``bench/matching_quality.py``, which runs this file with ``.venv-bench/bin/python`` (Splink
is a bench-only dependency, pinned in ``bench/requirements-splink.txt``; it never enters the
product's lock file).

    .venv-bench/bin/python bench/splink_reference.py RECORDS.csv [--threshold 0.5]

RECORDS.csv: ``unique_id, source_dataset, entity`` (the truth, used only for scoring) and the
compared columns, as ``matching_quality.splink_input`` writes them. One source: dedupe; more:
link and dedupe. The same settings for every data set; a column empty in the whole data set
gets no comparison (its parameters cannot be estimated).

Model: u by random sampling, the prior from deterministic rules, m by EM on two blocking
rules, predict on the prediction blocking rules, connected components at ``--threshold``.
Prints one JSON line: pairwise precision/recall/F1 and B-cubed by the same definitions as
``matching.services.evaluation.scores_compute`` (copied below: this runs in the other venv).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

NAME_COLUMNS = ("given_name", "family_name")


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def scores_compute(predicted: dict, truth: dict) -> dict:
    """The same pairwise and B-cubed definitions as the product's ``scores_compute``."""
    keys = [k for k in truth if k in predicted]
    cluster_sizes = Counter(predicted[k] for k in keys)
    entity_sizes = Counter(truth[k] for k in keys)
    cells = Counter((predicted[k], truth[k]) for k in keys)
    together = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in cluster_sizes.values())
    true_pairs = sum(_pairs(n) for n in entity_sizes.values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    bp = sum(cells[(predicted[k], truth[k])] / cluster_sizes[predicted[k]] for k in keys)
    br = sum(cells[(predicted[k], truth[k])] / entity_sizes[truth[k]] for k in keys)
    count = len(keys) or 1
    return {
        "records": len(keys),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "bcubed_p": bp / count,
        "bcubed_r": br / count,
    }


def settings_for(present: set[str], link_type: str) -> tuple[SettingsCreator, list, list]:
    """Comparisons, prediction blocking rules, deterministic rules (for the prior) and EM
    blocking rules, keeping only the columns that have values."""
    comparisons = []
    for column in NAME_COLUMNS:
        if column in present:
            comparisons.append(cl.NameComparison(column).configure(term_frequency_adjustments=True))
    if "organization_name" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("organization_name", [0.92, 0.8]))
    if "birth_date" in present:
        comparisons.append(
            cl.DateOfBirthComparison("birth_date", input_is_string=True, datetime_format="%Y-%m-%d")
        )
    if "address_line1" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("address_line1", [0.92, 0.8]))
    if "city" in present:
        comparisons.append(
            cl.JaroWinklerAtThresholds("city", [0.92, 0.8]).configure(term_frequency_adjustments=True)
        )
    if "postal_code" in present:
        comparisons.append(
            cl.LevenshteinAtThresholds("postal_code", [1]).configure(term_frequency_adjustments=True)
        )
    if "identifier" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("identifier", [1, 2]))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    if "phone" in present:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("phone", [1]))
    wanted = [
        ("given_name", "family_name"),
        ("family_name", "birth_date"),
        ("given_name", "birth_date"),
        ("postal_code", "family_name"),
        ("identifier",),
        ("address_line1",),
        ("email",),
        ("phone",),
        ("organization_name",),
    ]
    blocking = [block_on(*cols) for cols in wanted if all(c in present for c in cols)]
    deterministic = [
        block_on(*cols)
        for cols in [("identifier",), ("email",), ("given_name", "family_name", "birth_date")]
        if all(c in present for c in cols)
    ]
    # EM on pairs that share the full name, then on pairs that share the birth date. A third
    # rule on the postal code let households (same family name and address) pass as one
    # person: seed_demo F1 0.941 (precision 0.896) against 0.969; FEBRL1 0.994 either way.
    em_rules = [
        block_on(*cols)
        for cols in [("given_name", "family_name"), ("birth_date",)]
        if all(c in present for c in cols)
    ]
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    return settings, deterministic, em_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # Splink's advice on max_pairs etc.; stdout stays JSON
    started = time.perf_counter()
    con = duckdb.connect()
    path = args.records.replace("'", "''")
    con.execute(
        f"CREATE TABLE records AS SELECT * FROM read_csv('{path}', all_varchar=true, "  # noqa: S608
        "header=true)"
    )
    columns = [row[0] for row in con.execute("DESCRIBE records").fetchall()]
    for column in columns:  # empty cells are missing values for Splink
        con.execute(f'UPDATE records SET "{column}" = NULL WHERE trim("{column}") = \'\'')  # noqa: S608
    compared = [c for c in columns if c not in ("unique_id", "source_dataset", "entity")]
    present = {c for c in compared if con.execute(f'SELECT count("{c}") FROM records').fetchone()[0] > 0}  # noqa: S608
    sources = [
        row[0] for row in con.execute("SELECT DISTINCT source_dataset FROM records ORDER BY 1").fetchall()
    ]
    truth = {
        (s, u): e
        for u, s, e in con.execute("SELECT unique_id, source_dataset, entity FROM records").fetchall()
    }
    db_api = DuckDBAPI(connection=con)
    tables = []
    for number, source in enumerate(sources):
        name = f"input_{number}"
        con.execute(
            f"CREATE TABLE {name} AS SELECT * EXCLUDE (source_dataset, entity) "  # noqa: S608
            "FROM records WHERE source_dataset = ?",
            [source],
        )
        tables.append(db_api.register(name, dataset_display_name=source))
    link_type = "dedupe_only" if len(sources) == 1 else "link_and_dedupe"
    settings, deterministic, em_rules = settings_for(present, link_type)
    linker = Linker(tables[0] if len(tables) == 1 else tables, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=args.seed)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    trained = time.perf_counter() - started
    predictions = linker.inference.predict(threshold_match_probability=0.05)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold
    )
    relation = clusters.as_duckdbpyrelation()
    if "source_dataset" in relation.columns:
        rows = relation.select("cluster_id, unique_id, source_dataset").fetchall()
    else:  # dedupe_only: one source
        rows = [(c, u, sources[0]) for c, u in relation.select("cluster_id, unique_id").fetchall()]
    predicted = {(str(s), str(u)): str(c) for c, u, s in rows}
    pairs = predictions.as_duckdbpyrelation().count("*").fetchall()[0][0]
    result = scores_compute(predicted, truth)
    result.update(
        {
            "link_type": link_type,
            "sources": len(sources),
            "columns_with_values": sorted(present),
            "blocking_rules": len(settings.blocking_rules_to_generate_predictions),
            "em_rules": len(em_rules),
            "threshold": args.threshold,
            "pairs_predicted_over_0.05": pairs,
            "train_seconds": trained,
            "seconds": time.perf_counter() - started,
            "unclustered_truth_records": sum(1 for k in truth if k not in predicted),
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
