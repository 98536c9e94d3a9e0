"""seed_demo: realistic, messy, multi-source demo data, deterministic for a seed."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command

from parties.models import Engagement, Party, PartyKind, PartyRelationship, SourceRecord, SourceSystem

pytestmark = pytest.mark.django_db


def _truth(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_it_writes_the_same_truth_file_for_the_same_seed(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    call_command("seed_demo", parties=300, seed=7, truth=first)
    call_command("seed_demo", parties=300, seed=7, truth=second)
    assert first.read_bytes() == second.read_bytes()
    other = tmp_path / "c.csv"
    call_command("seed_demo", parties=300, seed=8, truth=other)
    assert other.read_bytes() != first.read_bytes()


def test_the_truth_groups_span_several_source_systems(tmp_path):
    path = tmp_path / "truth.csv"
    call_command("seed_demo", parties=400, sources=3, duplicate_rate="0.3", seed=7, truth=path)
    rows = _truth(path)
    assert list(rows[0]) == ["source", "source_key", "entity_id"]
    sources_of = defaultdict(set)
    for row in rows:
        sources_of[row["entity_id"]].add(row["source"])
    spanning = [e for e, s in sources_of.items() if len(s) > 1]
    assert len({r["source"] for r in rows}) == 3
    assert len(sources_of) == 400
    assert len(spanning) >= 0.15 * 400  # about 30% are duplicated, most into other sources
    # every truth row is a stored source record with its own (not yet merged) party
    assert SourceRecord.objects.count() == len(rows) == Party.objects.count()
    for row in rows[:50]:
        assert SourceRecord.objects.filter(
            source_system__name=row["source"], source_key=row["source_key"]).exists()


def test_the_duplicates_are_messy_copies_of_one_customer(tmp_path):
    path = tmp_path / "truth.csv"
    call_command("seed_demo", parties=300, seed=3, truth=path)
    groups = defaultdict(list)
    for row in _truth(path):
        groups[row["entity_id"]].append((row["source"], row["source_key"]))
    differing = 0
    for keys in groups.values():
        if len(keys) < 2:
            continue
        payloads = [SourceRecord.objects.get(source_system__name=s, source_key=k).raw_payload
                    for s, k in keys]
        names = {(p.get("given_name"), p.get("family_name"), p.get("full_name"),
                  p.get("organization_name")) for p in payloads}
        differing += len(names) > 1
    assert differing >= 10  # typos, nicknames, swapped names, format variants


def test_it_creates_organizations_relationships_and_engagements():
    call_command("seed_demo", parties=400, sources=4, seed=5)
    assert Party.objects.filter(kind=PartyKind.ORGANIZATION).count() >= 20
    assert PartyRelationship.objects.filter(kind="employed_by").exists()
    assert Engagement.objects.exists()
    assert SourceSystem.objects.count() == 4


def test_running_it_again_adds_nothing():
    call_command("seed_demo", parties=200, seed=1)
    counts = (Party.objects.count(), SourceRecord.objects.count(), Engagement.objects.count())
    call_command("seed_demo", parties=200, seed=1)
    assert (Party.objects.count(), SourceRecord.objects.count(),
            Engagement.objects.count()) == counts


def test_if_empty_leaves_existing_data_alone():
    call_command("seed_demo", parties=50, seed=1)
    before = SourceRecord.objects.count()
    call_command("seed_demo", parties=80, seed=2, if_empty=True)
    assert SourceRecord.objects.count() == before


@pytest.mark.parametrize(("options", "message"), [
    ({"parties": -1}, "--parties -1 must be 0 or more"),
    ({"parties": 5, "duplicate_rate": "lots"}, "--duplicate-rate 'lots' is not a number"),
    ({"parties": 5, "duplicate_rate": "1.5"}, "must be between 0 and 1"),
    ({"parties": 5, "sources": 99}, "sources"),
])
def test_it_rejects_bad_arguments_with_a_clear_message(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", **options)
    assert SourceRecord.objects.count() == 0
