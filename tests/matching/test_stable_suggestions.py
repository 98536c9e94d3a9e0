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
    real = service.content_digest  # called after the run read the pending suggestions

    def decided_meanwhile(*args):
        MatchSuggestion.objects.filter(pk=kept.pk).update(status=SuggestionStatus.MERGED)
        return real(*args)

    monkeypatch.setattr(service, "content_digest", decided_meanwhile)
    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.7, 0.75]))])

    after = MatchSuggestion.objects.get(pk=kept.pk)
    assert after.status == SuggestionStatus.MERGED
    assert (after.run_id, after.score, after.evidence) == (before.run_id, before.score, before.evidence)


def _evidence_reads(queries) -> list[str]:
    table = MatchSuggestion._meta.db_table
    return [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and f'"{table}"."evidence"' in q["sql"]
    ]


def _stored(s: MatchSuggestion) -> tuple:
    return (s.evidence, s.score, s.risk, s.search_text, s.values_digest, s.content_digest)


def test_a_second_run_keeps_an_unchanged_suggestion_without_reading_its_evidence_back():
    """The 1M regression: a second full run read every kept suggestion's evidence back (89 s
    at 217,000 suggestions). Digests written with the suggestion answer "unchanged" now."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    h = household()
    clusters = [(tuple(h.ids[:2]), np.array([0.7, 0.75])), (tuple(h.ids[2:]), np.array([0.8, 0.8]))]
    first = _run()
    suggestions_save(first, clusters)
    made = {
        s.pk: (s.evidence, s.score, s.values_digest, s.content_digest) for s in MatchSuggestion.objects.all()
    }
    assert all(len(row[-2]) == 32 and len(row[-1]) == 32 for row in made.values())

    second = _run()
    with CaptureQueriesContext(connection) as queries:
        suggestions_save(second, list(reversed(clusters)))  # another order, the same clusters

    assert _evidence_reads(queries.captured_queries) == []
    after = {
        s.pk: (s.evidence, s.score, s.values_digest, s.content_digest) for s in MatchSuggestion.objects.all()
    }
    assert after == made
    assert set(MatchSuggestion.objects.values_list("run_id", "status").distinct()) == {
        (second.pk, SuggestionStatus.PENDING)
    }


def test_a_suggestion_saved_before_digests_existed_is_kept_and_given_them():
    h = household()
    old = suggestion_for(h.ids[:2], score=0.9)
    MatchSuggestion.objects.filter(pk=old.pk).update(values_digest="", content_digest="")

    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.9, 0.9]))])

    kept = MatchSuggestion.objects.get(pk=old.pk)
    assert kept.status == SuggestionStatus.PENDING
    assert len(kept.values_digest) == 32 and len(kept.content_digest) == 32


def test_what_the_queue_shows_is_rewritten_when_only_the_facets_changed():
    """Same members, same values, but one of them now has an open order: the risk badge the
    queue shows must follow (the content digest covers the facets, not only the evidence)."""
    h = household()
    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.9, 0.9]))])
    before = MatchSuggestion.objects.get()
    m.Engagement.objects.create(
        party_id=h.ids[0],
        source_system=m.SourceRecord.objects.filter(party_id=h.ids[0]).first().source_system,
        engagement_type=m.EngagementType.ORDER,
        status="open",
        occurred_at=timezone.now(),
    )

    suggestions_save(_run(), [(tuple(h.ids[:2]), np.array([0.9, 0.9]))])

    after = MatchSuggestion.objects.get(pk=before.pk)
    assert after.status == SuggestionStatus.PENDING
    assert after.risk > before.risk
    assert after.content_digest != before.content_digest


def test_evidence_written_outside_a_run_keeps_its_values_digest_true():
    """A re-score or a member leaving saves evidence through the model: its values digest
    follows (else the next run would make a new suggestion of an unchanged one)."""
    from matching.digests import values_digest
    from matching.selectors import party_records
    from matching.services.suggestions import evidence_of

    h = household()
    suggestion = suggestion_for(h.ids[:3])
    suggestion.evidence = evidence_of(party_records(h.ids[:2]), h.ids[:2])
    suggestion.save(update_fields=["evidence"])

    stored = MatchSuggestion.objects.get(pk=suggestion.pk)
    assert stored.values_digest == values_digest(stored.evidence)
    assert stored.content_digest == ""
