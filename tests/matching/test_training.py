"""Training labels: stored per record pair, imported from lists, and trained on."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import dedupe
import pytest
from django.core.management import CommandError, call_command

from matching.comparisons import COMPARISONS
from matching.fields import FIELDS, source_record_record, variables
from matching.models import Label, MatcherModel, TrainingLabel
from matching.selectors import party_records
from matching.services.training import (
    MIN_DISTINCT_LABELS,
    MIN_MATCH_LABELS,
    LabelFileError,
    label_counts,
    label_set,
    labels_import,
)
from parties.models import SourceRecord
from tests.factories import SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db


def test_a_label_is_stored_once_per_pair_and_the_latest_judgement_wins(steward):
    a, b = SourceRecordFactory(), SourceRecordFactory()
    label_set(record_a=b, record_b=a, label="match", user=steward)
    label_set(record_a=a, record_b=b, label="distinct", user=steward)
    stored = TrainingLabel.objects.get()
    assert (stored.record_a_id, stored.record_b_id, stored.label) == (a.pk, b.pk, "distinct")
    assert label_counts() == (0, 1)  # read back from the database, as after a restart


def _label_file(rows: list[list[str]]) -> io.StringIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
    writer.writerows(rows)
    buffer.seek(0)
    return buffer


def test_a_label_file_is_checked_whole_and_names_every_bad_line():
    crm, shop = SourceSystemFactory(name="CRM"), SourceSystemFactory(name="Shop")
    SourceRecordFactory(source_system=crm, source_key="1")
    SourceRecordFactory(source_system=shop, source_key="9")
    handle = _label_file(
        [
            ["CRM", "1", "Shop", "9", "match"],
            ["CRM", "1", "Nowhere", "9", "match"],
            ["CRM", "404", "Shop", "9", "distinct"],
            ["CRM", "1", "Shop", "9", "maybe"],
        ]
    )
    with pytest.raises(LabelFileError) as error:
        labels_import(handle=handle)
    assert error.value.errors == [
        "line 3, column source_b: no source system named 'Nowhere'",
        "line 4, column key_a: 'CRM' has no record '404'",
        "line 5, column label: 'maybe' is not 'match' or 'distinct'",
    ]
    assert TrainingLabel.objects.count() == 0  # one bad line and nothing is stored


def test_import_labels_refuses_a_file_with_the_wrong_header(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(CommandError, match="line 1: the header must be source_a,key_a"):
        call_command("import_labels", str(path))


def test_train_matcher_says_how_many_labels_it_needs():
    with pytest.raises(
        CommandError,
        match=f"at least {MIN_MATCH_LABELS} 'match' and "
        f"{MIN_DISTINCT_LABELS} 'distinct' labels; there are 0 and 0",
    ):
        call_command("train_matcher", "--sync")


def test_a_party_flattens_to_the_fields_dedupe_compares(db):
    from parties.services.demo import demo_seed

    demo_seed(parties=30, sources=2, seed=4)
    records = list(SourceRecord.objects.all())
    flats = party_records([r.party_id for r in records])
    for record in records:  # each party has one record yet: both views must agree exactly
        flat = flats[record.party_id]
        assert list(flat)[: len(FIELDS)] == FIELDS  # then the comparisons' composites
        assert {"name", "address", "household"} <= set(flat)
        assert flat == source_record_record(record.standardized)
        assert all(v is None or v for v in flat.values())  # missing is None, never ""
    assert any(f["emails"] for f in flats.values()) and any(f["phones"] for f in flats.values())
    assert len(variables()) == len(FIELDS) + len(COMPARISONS)


def test_the_matcher_trains_from_imported_labels_and_the_model_loads(tmp_path):
    # Given demo data with its truth, and a list of known duplicates and non-duplicates
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=250, sources=3, seed=11, truth=truth)
    groups = defaultdict(list)
    with truth.open() as handle:
        for row in csv.DictReader(handle):
            groups[row["entity_id"]].append((row["source"], row["source_key"]))
    multi = [g for g in groups.values() if len(g) > 1]
    singles = [g[0] for g in groups.values() if len(g) == 1]
    rows = [[*g[0], *g[1], "match"] for g in multi[:15]]
    rows += [[*singles[i], *singles[i + 1], "distinct"] for i in range(0, 30, 2)]
    labels = tmp_path / "labels.csv"
    labels.write_text(_label_file(rows).getvalue())

    # When they are imported and the matcher is trained
    call_command("import_labels", str(labels))
    assert label_counts() == (15, 15)
    call_command("train_matcher", "--sync")

    # Then a model trained on those counts is active, and dedupe can use it
    model = MatcherModel.objects.get(is_active=True)
    assert (model.labels_match, model.labels_distinct) == (15, 15)
    matcher = dedupe.StaticDedupe(io.BytesIO(bytes(model.settings_blob)), num_cores=1)
    first = SourceRecord.objects.get(source_system__name=multi[0][0][0], source_key=multi[0][0][1])
    second = SourceRecord.objects.get(source_system__name=multi[0][1][0], source_key=multi[0][1][1])
    scores = matcher.score(
        [(("a", source_record_record(first.standardized)), ("b", source_record_record(second.standardized)))]
    )
    assert 0.0 <= float(scores["score"][0]) <= 1.0
    assert TrainingLabel.objects.filter(label=Label.MATCH, origin="file").count() == 15


def test_string_distances_are_capped_so_no_field_outweighs_the_others():
    """A customer who moved: a wholly different address counts as much as a very different
    one, and no more; typos keep their graded distance."""
    from affinegap import normalizedAffineGapDistance

    from matching.fields import STRING_DISTANCE_CAP, bounded_affine_gap

    moved = ("4051 chestnut ave", "4979 highland way")
    assert normalizedAffineGapDistance(*moved) > 2 * STRING_DISTANCE_CAP
    assert bounded_affine_gap(*moved) == STRING_DISTANCE_CAP
    assert bounded_affine_gap("legrand", "legrznd") == normalizedAffineGapDistance("legrand", "legrznd")
    assert bounded_affine_gap("anna", "anna") < bounded_affine_gap("legrand", "legrznd") < STRING_DISTANCE_CAP
    by_field = {v.field: v for v in variables()}
    assert by_field["address_line1"].comparator is bounded_affine_gap
    assert by_field["postal_code"].comparator is bounded_affine_gap
