"""Suggestions written the way a match run writes them (evidence from the parties' current
records, queue facets), without training a model: for tests of the queue and its decisions."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from matching.models import MatchRun, MatchSuggestion, MatchSuggestionMember, RunStatus
from matching.selectors import party_records
from matching.services.facets import suggestion_facets
from matching.services.suggestions import evidence_of


def suggestion_for(party_ids: Sequence[int], score: float = 0.9) -> MatchSuggestion:
    run = MatchRun.objects.filter(status=RunStatus.SUCCEEDED).first() or MatchRun.objects.create(
        status=RunStatus.SUCCEEDED, full=True, finished_at=timezone.now()
    )
    ids = list(party_ids)
    evidence = evidence_of(party_records(ids), ids)
    suggestion = MatchSuggestion.objects.create(
        run=run, score=score, evidence=evidence, **suggestion_facets([ids], [evidence])[0]
    )
    MatchSuggestionMember.objects.bulk_create(
        [MatchSuggestionMember(suggestion=suggestion, party_id=pid, score=score) for pid in ids]
    )
    return suggestion
