"""Splitting a suggestion into groups: each group of two or more parties merges, and every pair
of parties in different groups is recorded as "not a match" (pairs within a group never are).

A household cluster of two Rosi and two Mechthilde Trommler records is two customers with two
records each: "not a match" for the whole cluster would separate the true duplicates for good,
a merge would join two people. A split says both at once.

Locks: the same order as merging and rejecting (``decisions.suggestion_lock``: the parties in
primary-key order, then the suggestion), and the same answers when someone decided first.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from django.db import transaction
from django.utils import timezone

from matching.models import Decision, MatchSuggestion, SuggestionStatus
from matching.services.decisions import (
    SuggestionClosed,
    _first_records,
    pairs_decide,
    suggestion_handled,
    suggestion_lock,
)
from parties.models import EventKind, PartyEvent
from parties.services.events import not_a_match_event
from parties.services.merge import MergeRefused, party_merge

GROUP_NAMES = string.ascii_uppercase  # group A, B, C …


class SplitRefused(MergeRefused):
    """The groups do not describe a split of the suggestion; nothing was changed."""


@dataclass
class SplitResult:
    suggestion: MatchSuggestion
    merges: list[PartyEvent] = field(default_factory=list)  # one per group of two or more
    survivors: list[int] = field(default_factory=list)  # each group's party after the split
    rejected_pairs: int = 0


def group_name(index: int) -> str:
    return GROUP_NAMES[index] if index < len(GROUP_NAMES) else str(index + 1)


def split_groups_check(
    groups: Sequence[Sequence[int]], members: Sequence[int], suggestion_id: int
) -> list[list[int]]:
    """The non-empty groups, each sorted, when they are a split of ``members``: every member in
    exactly one group, no other party, at least two groups. Raises ``SplitRefused`` saying
    what is wrong and with which party."""
    named = ", ".join(f"#{pid}" for pid in sorted(members))
    seen: dict[int, int] = {}
    kept: list[list[int]] = []
    for index, group in enumerate(groups):
        for pid in group:
            if pid not in members:
                raise SplitRefused(
                    f"party {pid} is not in suggestion #{suggestion_id} (its parties: {named})"
                )
            if pid in seen:
                raise SplitRefused(
                    f"party {pid} is in group {group_name(seen[pid])} and in group "
                    f"{group_name(index)}: put each party in one group"
                )
            seen[pid] = index
        if group:
            kept.append(sorted(group))
    left_out = [pid for pid in sorted(members) if pid not in seen]
    if left_out:
        raise SplitRefused(
            f"party {left_out[0]} is in no group: put every party of suggestion #{suggestion_id} in a group"
        )
    if len(kept) < 2:
        raise SplitRefused("a split needs at least two groups (to merge all the parties, use Merge)")
    return kept


def _survivors_check(survivor_ids: Sequence[int], kept: list[list[int]], suggestion_id: int) -> None:
    """Each chosen survivor is in a group, at most one per group (SplitRefused naming it): a
    survivor that cannot be honoured is not silently replaced by the merge's choice."""
    chosen: dict[int, int] = {}
    for pid in survivor_ids:
        index = next((i for i, group in enumerate(kept) if pid in group), None)
        if index is None:
            raise SplitRefused(f"survivor {pid} is not in suggestion #{suggestion_id}")
        if index in chosen and chosen[index] != pid:
            raise SplitRefused(
                f"survivors {chosen[index]} and {pid} are both in group "
                f"{group_name(index)}: choose one survivor per group"
            )
        chosen[index] = pid


def suggestion_split(
    *, suggestion_id: int, groups: Sequence[Sequence[int]], user, survivor_ids: Sequence[int] = ()
) -> SplitResult:
    """Split the suggestion into ``groups`` (party ids; every member in exactly one group, at
    least two groups): each group of two or more merges (its survivor: the one of
    ``survivor_ids`` in it, else the merge's default), every pair across groups is recorded as
    "not a match" (a training label, and later runs skip the pair), and the suggestion becomes
    *split*. All or nothing, in one transaction, which is durable: the merges (``party_merge``,
    not durable itself) and the "not a match" commit together, never inside a caller's.

    Raises ``SplitRefused`` for groups that are not a split of the suggestion,
    ``SuggestionClosed`` when someone decided it first (saying who),
    ``SuggestionStale`` when its parties changed since it was made (re-scored, not split),
    ``MatchSuggestion.DoesNotExist`` when there is no such suggestion."""
    from matching.services.review import _Stale, stale_rescored

    try:
        with transaction.atomic(durable=True):
            return _split_locked(suggestion_id, groups, user, survivor_ids)
    except _Stale as stale:
        raise stale_rescored(suggestion_id, stale) from None


def _split_locked(
    suggestion_id: int, groups: Sequence[Sequence[int]], user, survivor_ids: Sequence[int]
) -> SplitResult:
    from matching.services.review import _Stale, suggestion_changes

    suggestion, members, _ = suggestion_lock(suggestion_id)
    if suggestion.status != SuggestionStatus.PENDING:
        raise SuggestionClosed(suggestion_handled(suggestion))
    kept = split_groups_check(groups, members, suggestion.pk)
    _survivors_check(survivor_ids, kept, suggestion.pk)
    reason = suggestion_changes(suggestion, members)
    if reason:
        raise _Stale(reason)
    # Each party's own first record, before the merges move them: the labels are about these.
    records = _first_records(members)
    result = SplitResult(suggestion=suggestion)
    label = user.get_username() if user else "system"
    described = "; ".join(
        f"group {group_name(i)}: " + ", ".join(f"#{pid}" for pid in group) for i, group in enumerate(kept)
    )
    for index, group in enumerate(kept):
        if len(group) < 2:
            result.survivors.append(group[0])
            continue
        survivor = next((pid for pid in survivor_ids if pid in group), None)
        event = party_merge(
            party_ids=group,
            survivor_id=survivor,
            actor=user,
            actor_label=label,
            kind=EventKind.MERGE,
            suggestion_id=suggestion.pk,
            score=suggestion.score,
            reason=f"split of suggestion #{suggestion.pk}, group {group_name(index)}",
        )
        result.merges.append(event)
        result.survivors.append(event.party_id)
    # After the merges: a merge lapses the decisions taken before it about its parties (their
    # data changed), not these, taken knowing what the groups hold (decisions_lapse).
    across = [(a, b) for first, second in combinations(kept, 2) for a in first for b in second]
    result.rejected_pairs = pairs_decide(
        across, decision=Decision.REJECTED, user=user, suggestion=suggestion, records=records
    )
    not_a_match_event(
        party_id=result.survivors[0],
        party_ids=result.survivors,
        actor=user,
        suggestion_id=suggestion.pk,
        score=suggestion.score,
        reason=f"split into groups ({described}): the groups are not the same customer",
    )
    suggestion.status = SuggestionStatus.SPLIT
    suggestion.decided_at, suggestion.decided_by = timezone.now(), user
    suggestion.claimed_by = suggestion.claimed_at = None
    suggestion.save(update_fields=["status", "decided_at", "decided_by", "claimed_by", "claimed_at"])
    return result
