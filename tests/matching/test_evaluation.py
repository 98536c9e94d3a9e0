"""Export of clusters and their evaluation against a truth file."""

from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command

from matching.services.evaluation import scores_compute
from parties.models import Party, SourceRecord


def test_pairwise_and_bcubed_scores_on_a_hand_checked_example():
    # truth: {a, b, c} are one customer, {d} another; predicted: {a, b} and {c, d}
    truth = {("s", "a"): "E1", ("s", "b"): "E1", ("s", "c"): "E1", ("s", "d"): "E2"}
    predicted = {("s", "a"): "C1", ("s", "b"): "C1", ("s", "c"): "C2", ("s", "d"): "C2"}
    scores = scores_compute(predicted, truth)
    # predicted pairs ab, cd; true pairs ab, ac, bc → 1 in common
    assert (scores.pairwise_precision, scores.pairwise_recall) == (0.5, 1 / 3)
    assert scores.pairwise_f1 == pytest.approx(0.4)
    # B-cubed precision: a 1, b 1, c 1/2, d 1/2 → 0.75; recall: a 2/3, b 2/3, c 1/3, d 1 → 2/3
    assert scores.bcubed_precision == pytest.approx(0.75)
    assert scores.bcubed_recall == pytest.approx(2 / 3)


def test_perfect_clusters_score_one_and_unknown_records_are_counted():
    truth = {("s", "a"): "E1", ("s", "b"): "E1", ("s", "x"): "E9"}
    predicted = {("s", "a"): "C", ("s", "b"): "C"}
    scores = scores_compute(predicted, truth)
    assert (scores.pairwise_f1, scores.bcubed_precision, scores.bcubed_recall, scores.missing) == (
        1.0,
        1.0,
        1.0,
        1,
    )


@pytest.mark.django_db
def test_export_and_evaluate_on_generated_data_with_known_truth(tmp_path, capsys):
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=200, sources=3, seed=2, truth=truth)
    # Nothing is merged yet: every record is its own cluster, so precision is perfect and
    # recall is zero. Then put the records of half the true duplicates into one party each.
    rows = list(csv.DictReader(truth.open()))
    by_entity: dict[str, list[SourceRecord]] = {}
    for row in rows:
        by_entity.setdefault(row["entity_id"], []).append(
            SourceRecord.objects.get(source_system__name=row["source"], source_key=row["source_key"])
        )
    duplicated = [records for records in by_entity.values() if len(records) > 1]
    for records in duplicated[: len(duplicated) // 2]:
        SourceRecord.objects.filter(pk__in=[r.pk for r in records[1:]]).update(party=records[0].party)

    export = tmp_path / "export.csv"
    call_command("export_matches", str(export))
    exported = list(csv.DictReader(export.open()))
    assert len(exported) == len(rows) == SourceRecord.objects.count()
    merged = duplicated[0]
    clusters = {
        r["cluster_id"]
        for r in exported
        if (r["source"], r["source_key"]) in {(m.source_system.name, m.source_key) for m in merged}
    }
    assert len(clusters) == 1

    call_command("evaluate_matches", str(truth))
    out = capsys.readouterr().out
    precision = float(out.split("pairwise precision ")[1].split()[0])
    recall = float(out.split(" recall ")[1].split()[0])
    assert precision == 1.0 and 0.3 < recall < 0.7  # half the duplicate groups were joined
    assert f"records {len(rows)}" in out and "no model trained yet" in out
    assert Party.objects.count() == len(rows)  # parties themselves were not touched


@pytest.mark.django_db
def test_evaluate_refuses_a_truth_file_with_the_wrong_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n")
    with pytest.raises(CommandError, match="line 1: the header must be source,source_key,entity_id"):
        call_command("evaluate_matches", str(path))
