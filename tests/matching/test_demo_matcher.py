"""``demo_matcher``: the demo gets a trained matcher, a merge queue, and a few decisions made
as its truth file says, so the dashboard's activity and throughput charts are not empty."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from matching.models import MatchSuggestion, PairDecision
from parties.models import EventKind, PartyEvent, SourceRecord
from parties.services.users import demo_users_ensure

pytestmark = pytest.mark.django_db


def test_the_demo_steward_and_administrator_decide_the_likeliest_suggestions_by_the_truth(tmp_path):
    truth = tmp_path / "truth.csv"
    call_command("seed_demo", "--parties", "300", "--sources", "3", "--seed", "7", "--truth", str(truth))
    demo_users_ensure()
    entity = {}
    for line in truth.read_text().splitlines()[1:]:
        source, key, entity_id = line.split(",")[:3]
        entity[(source, key)] = entity_id

    call_command("demo_matcher", "--truth", str(truth), "--decide", "12")

    decided = MatchSuggestion.objects.exclude(status="pending").exclude(status="closed")
    assert 0 < decided.count() <= 12
    assert MatchSuggestion.objects.filter(status="pending").exists()  # the queue is not emptied
    deciders = set(PairDecision.objects.values_list("decided_by__username", flat=True))
    deciders |= set(PartyEvent.objects.filter(kind=EventKind.MERGE).values_list("actor__username", flat=True))
    assert deciders <= {"steward", "admin"} and "steward" in deciders
    # Every merge joined records of one true customer.
    for event in PartyEvent.objects.filter(kind=EventKind.MERGE):
        records = SourceRecord.objects.filter(party_id=event.party_id).values_list(
            "source_system__name", "source_key"
        )
        assert len({entity[r] for r in records}) == 1
