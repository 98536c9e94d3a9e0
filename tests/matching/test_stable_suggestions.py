"""A run keeps a pending suggestion whose members and data did not change: same id, claim and
place; its scores are rewritten in place. Changed clusters become new suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from matching.models import MatchRun, MatchSuggestion, MatchSuggestionMember, RunStatus, SuggestionStatus
from matching.services.suggestions import suggestions_save
from parties import models as m
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household

pytestmark = pytest.mark.django_db


def _run() -> MatchRun:
    return MatchRun.objects.create(status=RunStatus.RUNNING, full=True, started_at=timezone.now())


def test_a_kept_suggestion_takes_the_new_scores_in_place():
    h = household()
    ann = UserFactory(username="ann")
    kept = suggestion_for(h.ids[:2], score=0.9)
    MatchSuggestion.objects.filter(pk=kept.pk).update(claimed_by=ann, claimed_at=timezone.now())
    changed = suggestion_for(h.ids[2:], score=0.8)
    run = _run()

    made = suggestions_save(
        run, [(tuple(h.ids[:2]), np.array([0.7, 0.75])), (tuple(h.ids[1:]), np.array([0.6, 0.6, 0.6]))]
    )

    assert made == 2
    kept = MatchSuggestion.objects.get(pk=kept.pk)
    assert (kept.status, kept.run, kept.claimed_by, kept.score) == (SuggestionStatus.PENDING, run, ann, 0.7)
    assert dict(kept.members.values_list("party_id", "score")) == {h.ids[0]: 0.7, h.ids[1]: 0.75}
    assert MatchSuggestion.objects.get(pk=changed.pk).status == SuggestionStatus.SUPERSEDED
    new = MatchSuggestion.objects.get(status=SuggestionStatus.PENDING, run=run, size=3)
    assert new.pk > changed.pk
    members = MatchSuggestionMember.objects.filter(suggestion=new).values_list("party_id", flat=True)
    assert sorted(members) == sorted(h.ids[1:])


def test_a_suggestion_whose_party_changed_is_made_anew():
    h = household()
    old = suggestion_for(h.ids[:2])
    m.ContactPointEmail.objects.create(
        party_id=h.ids[0],
        raw_value="rosi@example.de",  # an import added it
        normalized="rosi@example.de",
    )

    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.9, 0.9]))])

    assert MatchSuggestion.objects.get(pk=old.pk).status == SuggestionStatus.SUPERSEDED
    assert MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).exclude(pk=old.pk).count() == 1


def test_a_suggestion_decided_while_the_run_saves_keeps_the_evidence_it_was_decided_on(monkeypatch):
    """A steward's decision committed between the run reading the pending suggestions and
    writing the kept ones: the run leaves the decided suggestion as it was (it rewrote score,
    evidence and run by id, so a second review would show evidence nobody decided on)."""
    from matching.services import suggestions as service

    h = household()
    kept = suggestion_for(h.ids[:2], score=0.9)
    before = MatchSuggestion.objects.get(pk=kept.pk)
    real = service.evidence_values

    def decided_meanwhile(evidence):
        MatchSuggestion.objects.filter(pk=kept.pk).update(status=SuggestionStatus.MERGED)
        return real(evidence)

    monkeypatch.setattr(service, "evidence_values", decided_meanwhile)
    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.7, 0.75]))])

    after = MatchSuggestion.objects.get(pk=kept.pk)
    assert after.status == SuggestionStatus.MERGED
    assert (after.run_id, after.score, after.evidence) == (before.run_id, before.score, before.evidence)
