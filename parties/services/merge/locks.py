"""The lock order of the whole application, and what the loser of a race is told."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from parties.models import Party, PartyEvent
from parties.services.merge.common import MERGE_KINDS, MergeRefused


def parties_lock(party_ids: Iterable[int]) -> dict[int, Party]:
    """Lock the parties in primary-key order and return them by id. Erased parties are
    refused: nothing may change them again.

    THE LOCK ORDER (the one place it is written down; every service that locks follows it):

    1. Parties first, all of them at once, in primary-key order, through this function:
       merges, unmerges, splits, overrides, contact-point edits, consent changes
       (``consent_set``), a steward's merge, "not a match" and re-scoring of a suggestion.
       A service that learns of more parties later does not lock them later: it refuses
       ("changed by someone else meanwhile") and the caller starts again.
    2. Then the rows that hang off those parties: the suggestion and its members (the
       suggestion itself is locked after its parties, never before), the other suggestions a
       merge closes, consent and ledger rows, training labels and pair decisions.
    3. Job control rows (``ImportJob``, ``MatchRun``, ``MatchRunChunk``, ``MatcherModel``,
       ``SourceSystem``) are only ever claimed with one conditional UPDATE or locked in a short
       transaction of their own; an import batch updates its job's row last, after its rows.

    Parties are locked FOR NO KEY UPDATE on PostgreSQL. Django's foreign keys are checked at
    commit (deferred), and each check takes a KEY SHARE lock on the party a new row points
    at. Bulk writers that cannot lock every party they point at (a match run saving its
    suggestions, an import writing records) hold suggestion or job rows when they commit; with
    FOR UPDATE here, a merge holding a party and waiting for such a row would deadlock with
    them. NO KEY UPDATE still makes every locker of a party wait for the others.

    What the loser of a race sees: it waits, then finds the winner's result, and is refused
    with a message naming who handled it ("already merged into … by … at …", "already
    handled (rejected) by …"), never a deadlock or a 500."""
    ids = sorted(set(party_ids))
    locking = Party.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update)
    parties = {p.pk: p for p in locking.filter(pk__in=ids).order_by("pk")}
    missing = [pid for pid in ids if pid not in parties]
    if missing:
        raise MergeRefused(f"there is no party {', '.join(map(str, missing))}")
    erased = [pid for pid in ids if parties[pid].erased_at]
    if erased:
        raise MergeRefused(
            f"party {erased[0]} was erased on request (right to be forgotten) and can no longer be changed"
        )
    return parties


def merged_by(party: Party) -> str:
    """The refusal for a party no longer active: into which party, by whom and when."""
    event = None
    if party.merged_into_id is not None:
        event = (
            PartyEvent.objects.filter(
                kind__in=MERGE_KINDS, parties=party, party_id=party.merged_into_id, reverted_by__isnull=True
            )
            .order_by("-pk")
            .first()
        )
    if event is None:
        return f"party {party.pk} was already merged into party {party.merged_into_id}"
    when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
    return (
        f"party {party.pk} was already merged into party {party.merged_into_id} "
        f"by {event.actor_label} at {when}"
    )
