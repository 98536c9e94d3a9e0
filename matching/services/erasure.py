"""Matching's part in an erasure (``parties.extensions.erasure_participant_register``): the
matcher's stored records, block keys and training labels and pairs of the erased parties are
deleted; suggestions that include them are closed if pending and lose the person's values in
their search text, evidence and risk reasons (they stay, emptied, for the queue's statistics)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from matching.models import (
    BlockKey,
    MatchRecord,
    MatchSuggestion,
    SuggestionStatus,
    TrainingLabel,
    TrainingPair,
)
from parties.extensions import ErasureContext, ErasureParticipant


def matcher_forget(ctx: ErasureContext) -> None:
    ids, record_ids = ctx.party_ids, ctx.record_ids
    MatchRecord.objects.filter(party_id__in=ids).delete()
    BlockKey.objects.filter(party_id__in=ids).delete()
    TrainingLabel.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)).delete()
    TrainingPair.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)).delete()
    suggestions = MatchSuggestion.objects.filter(members__party_id__in=ids).distinct()
    MatchSuggestion.objects.filter(
        pk__in=suggestions.filter(status=SuggestionStatus.PENDING).values("pk")
    ).update(status=SuggestionStatus.CLOSED, decided_at=timezone.now(), claimed_by=None, claimed_at=None)
    # digests of the person's values (matching.digests) are no values, but no trace stays either
    MatchSuggestion.objects.filter(pk__in=suggestions.values("pk")).update(
        values_digest="", content_digest=""
    )
    ctx.redact_rows(
        MatchSuggestion.objects.filter(pk__in=suggestions.values("pk")),
        text=["search_text"],
        documents=["evidence", "risk_reasons"],
    )


PARTICIPANT = ErasureParticipant(name="matching", erase=matcher_forget)
