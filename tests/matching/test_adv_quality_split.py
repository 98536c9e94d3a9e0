"""Adversarial pass: a known-answer pair decided by a split into groups (two parties, two
groups: "different customers") counts as the steward's answer, and a wrong split of a known
match is lifted like a wrong "not a match"."""

from __future__ import annotations

import pytest
from django.utils import timezone

from c360.kernel.roles import DATA_STEWARD
from matching.models import (
    Label,
    MatchRun,
    MatchSuggestion,
    PairDecision,
    QualityCheck,
    RunStatus,
    TrainingLabel,
)
from matching.services.quality import _seed, quality_checks_sync, steward_agreement
from matching.services.split import suggestion_split
from tests.factories import UserFactory
from tests.matching.test_quality import _party

pytestmark = pytest.mark.django_db


def test_a_split_of_a_known_answer_pair_is_the_stewards_answer_and_a_wrong_one_is_lifted():
    MatchRun.objects.create(status=RunStatus.SUCCEEDED, full=True, finished_at=timezone.now())
    cy = UserFactory(username="cyprian", role=DATA_STEWARD)
    p = [_party("Lee", "CRM", f"K{i}") for i in range(4)]
    _seed(
        [(p[0].pk, p[1].pk, Label.MATCH, 0.9), (p[2].pk, p[3].pk, Label.DISTINCT, 0.8)],
        origin="truth",
        user=None,
    )
    known_match = MatchSuggestion.objects.get(members__party=p[0], checks__isnull=False)
    known_distinct = MatchSuggestion.objects.get(members__party=p[2], checks__isnull=False)

    # When the steward splits both pairs into two groups of one (= "different customers")
    suggestion_split(suggestion_id=known_match.pk, groups=[[p[0].pk], [p[1].pk]], user=cy)
    suggestion_split(suggestion_id=known_distinct.pk, groups=[[p[2].pk], [p[3].pk]], user=cy)
    assert quality_checks_sync() == 2

    # Then both count as answers (one right, one wrong), none is void
    assert not QualityCheck.objects.filter(void=True).exists()
    row = next(r for r in steward_agreement() if r.steward.username == "cyprian")
    assert (row.known, row.known_agreed) == (2, 1)
    # and the wrong "different" on the known match no longer keeps the duplicates apart
    assert not PairDecision.objects.filter(suggestion=known_match, is_active=True).exists()
    label = TrainingLabel.objects.get(record_a__party__in=p[:2], record_b__party__in=p[:2])
    assert label.label == Label.MATCH


def test_a_truth_file_with_an_enormous_source_name_is_refused_without_echoing_it_all():
    import io

    from matching.services.quality import QualityError, _truth_parties

    text = "source,source_key,entity_id\n" + "x" * 1_000_000 + ",K1,E1\n"
    with pytest.raises(QualityError) as refused:
        _truth_parties(io.StringIO(text))
    message = str(refused.value)
    assert "line 2, column source: no source system named" in message
    assert len(message) < 300  # a line and a column and the value's start, not a megabyte
