"""seed_demo: realistic, messy, multi-source demo data, deterministic for a seed."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from parties.models import (
    Engagement,
    Membership,
    Party,
    PartyKind,
    PartyRelationship,
    RelationshipKind,
    SourceRecord,
    SourceSystem,
)

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
            source_system__name=row["source"], source_key=row["source_key"]
        ).exists()


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
        payloads = [
            SourceRecord.objects.get(source_system__name=s, source_key=k).raw_payload for s, k in keys
        ]
        names = {
            (p.get("given_name"), p.get("family_name"), p.get("full_name"), p.get("organization_name"))
            for p in payloads
        }
        differing += len(names) > 1
    assert differing >= 10  # typos, nicknames, swapped names, format variants


def test_it_creates_organizations_relationships_engagements_and_memberships():
    call_command("seed_demo", parties=400, sources=4, seed=5)
    assert Party.objects.filter(kind=PartyKind.ORGANIZATION).count() >= 20
    assert PartyRelationship.objects.filter(kind="employed_by").exists()
    assert Engagement.objects.count() >= 400
    assert set(Engagement.objects.values_list("engagement_type", flat=True)) >= {"order", "web_visit"}
    assert Membership.objects.filter(program_type="loyalty").count() >= 20
    assert not Membership.objects.filter(source_system=None).exists()  # keyed like imported ones
    assert SourceSystem.objects.count() == 4


def test_household_members_are_different_customers_linked_both_ways(tmp_path, role_client):
    # Given demo data with its truth file
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", parties=600, sources=4, seed=5, truth=truth)
    entity_of = {(r["source"], r["source_key"]): r["entity_id"] for r in _truth(truth)}

    # Then some people live together: two parties, two different real-world customers
    links = list(
        PartyRelationship.objects.filter(kind=RelationshipKind.HOUSEHOLD_MEMBER).select_related(
            "from_party", "to_party"
        )
    )
    assert len(links) >= 10
    same_home = same_name = 0
    for link in links:
        assert link.from_party_id != link.to_party_id
        records = [
            SourceRecord.objects.filter(party=p).select_related("source_system").first()
            for p in (link.from_party, link.to_party)
        ]
        entities = {entity_of[(r.source_system.name, r.source_key)] for r in records}
        assert len(entities) == 2  # the truth file does not call them duplicates
        payloads = [r.raw_payload for r in records]
        same_home += payloads[0].get("city") == payloads[1].get("city") and bool(payloads[0].get("city"))
        same_name += link.from_party.family_name == link.to_party.family_name
    assert same_home >= 0.6 * len(links)  # the same address (copies may be written differently)
    assert same_name >= 0.4 * len(links)  # most are couples sharing a family name

    # And a steward follows the link from either party's page to the other's
    client = role_client("steward")
    link = links[0]
    for here, there in ((link.from_party, link.to_party), (link.to_party, link.from_party)):
        page = client.get(reverse("parties:detail", args=[here.pk]))
        assert page.status_code == 200
        assert f'href="{there.get_absolute_url()}"' in page.content.decode()


def test_running_it_again_adds_nothing():
    call_command("seed_demo", parties=200, seed=1)
    models = (Party, SourceRecord, Engagement, Membership, PartyRelationship)
    counts = [model.objects.count() for model in models]
    assert counts[3] and counts[4]
    call_command("seed_demo", parties=200, seed=1)
    assert [model.objects.count() for model in models] == counts


def test_if_empty_leaves_existing_data_alone():
    call_command("seed_demo", parties=50, seed=1)
    before = SourceRecord.objects.count()
    call_command("seed_demo", parties=80, seed=2, if_empty=True)
    assert SourceRecord.objects.count() == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parties": -1}, "--parties -1 must be 0 or more"),
        ({"parties": 5, "duplicate_rate": "lots"}, "--duplicate-rate 'lots' is not a number"),
        ({"parties": 5, "duplicate_rate": "1.5"}, "must be between 0 and 1"),
        ({"parties": 5, "sources": 99}, "sources"),
    ],
)
def test_it_rejects_bad_arguments_with_a_clear_message(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", **options)
    assert SourceRecord.objects.count() == 0
