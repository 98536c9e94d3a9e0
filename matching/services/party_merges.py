"""Matching's part in merges, unmerges and splits (registered in ``MatchingConfig.ready``).

- A steward's merge teaches the matcher: each merged pair becomes a ``match`` label (made
  from each party's own first record, as it was before the merge). Automatic merges do not:
  the matcher would only learn what it already believes.
- Suggestions naming a party that was merged away are closed.
- An unmerge the steward calls "different customers", and a split, record the separated pairs
  as "not a match", so they are neither suggested nor merged automatically again (until one
  side's data changes). An unmerge "for now" records nothing, and withdraws the "match" labels
  the merge taught: the next run may suggest them again. Either way the merge's suggestion then
  reads "Merged, then undone".
"""

from __future__ import annotations

from itertools import combinations

from django.db.models import Q
from django.utils import timezone

from matching.models import (
    Decision,
    Label,
    LabelOrigin,
    MatchSuggestion,
    PairDecision,
    SuggestionStatus,
    TrainingLabel,
)
from matching.services.decisions import pairs_decide
from matching.services.suggestions import suggestions_close_for_inactive
from parties.extensions import MergeContext, MergeParticipant
from parties.models import EventKind, PartyEvent, SourceRecord
from parties.services.merge import MERGE_KINDS


def _on_merge(ctx: MergeContext) -> dict:
    ids = [ctx.survivor_id, *ctx.other_ids]
    teach = ctx.kind == EventKind.MERGE
    records = {
        pid: record
        for pid, record in (
            (pid, SourceRecord.objects.filter(pk=ctx.first_records[pid]).first())
            for pid in ids
            if pid in ctx.first_records
        )
        if record
    }
    pairs_decide(
        combinations(ids, 2),
        decision=Decision.MERGED,
        user=ctx.actor,
        suggestion=ctx.suggestion_id,
        records=records,
        teach=teach,
    )
    closing = MatchSuggestion.objects.filter(
        status=SuggestionStatus.PENDING, members__party_id__in=ctx.other_ids
    )
    if ctx.suggestion_id:
        closing = closing.exclude(pk=ctx.suggestion_id)
    closed = sorted(set(closing.values_list("pk", flat=True)))
    suggestions_close_for_inactive(ctx.other_ids, exclude=[ctx.suggestion_id] if ctx.suggestion_id else [])
    # the record pairs this merge taught as "match": an unmerge "for now" withdraws them
    taught = sorted(
        sorted((records[a].pk, records[b].pk))
        for a, b in combinations(ids, 2)
        if teach and a in records and b in records
    )
    return {"closed_suggestions": closed, "taught": taught}


def _on_unmerge(ctx: MergeContext, state: dict | None) -> None:
    pairs = list(combinations(sorted([ctx.survivor_id, *ctx.other_ids]), 2))
    if ctx.keep_apart:  # "different customers": not a match, and a distinct training label
        pairs_decide(pairs, decision=Decision.REJECTED, user=ctx.actor, suggestion=ctx.suggestion_id)
    else:  # "undo for now": the merge's decision no longer stands, and nothing replaces it
        same_pair = Q()
        for a, b in pairs:
            same_pair |= Q(party_a_id=a, party_b_id=b)
        PairDecision.objects.filter(same_pair, is_active=True, decision=Decision.MERGED).update(
            is_active=False
        )
        # nor does the "match" label it taught: the next training must not learn a withdrawn merge
        for record_a, record_b in (state or {}).get("taught", []):
            TrainingLabel.objects.filter(
                record_a_id=record_a, record_b_id=record_b, label=Label.MATCH, origin=LabelOrigin.QUEUE
            ).delete()
    if ctx.suggestion_id:
        _suggestion_unmerged(ctx.suggestion_id, ctx.actor)


def _suggestion_unmerged(suggestion_id: int, actor) -> None:
    """The suggestion the merge came from reads "Merged, then undone" once none of its merges
    stands (a split merges one group per merge; the one being undone is still counted here)."""
    standing = PartyEvent.objects.filter(
        suggestion_id=suggestion_id, kind__in=MERGE_KINDS, reverted_by__isnull=True
    ).count()
    if standing <= 1:
        MatchSuggestion.objects.filter(
            pk=suggestion_id, status__in=[SuggestionStatus.MERGED, SuggestionStatus.SPLIT]
        ).update(status=SuggestionStatus.UNMERGED, decided_by=actor, decided_at=timezone.now())


def _on_split(ctx: MergeContext) -> None:
    pairs_decide(
        [(ctx.survivor_id, other) for other in ctx.other_ids], decision=Decision.REJECTED, user=ctx.actor
    )


PARTICIPANT = MergeParticipant(
    name="matching", on_merge=_on_merge, on_unmerge=_on_unmerge, on_split=_on_split
)
