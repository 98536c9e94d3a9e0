"""Stewards' decisions on suggestions, and what they teach the matcher.

"Not a match" records a PairDecision for every pair it separates, so later runs skip those
pairs (until either party's data changes), and stores a 'distinct' training label for each
pair's source records, so the next training learns from the queue as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from matching.models import (
    Decision,
    Label,
    LabelOrigin,
    MatchSuggestion,
    MatchSuggestionMember,
    PairDecision,
    SuggestionStatus,
)
from matching.selectors import party_records
from matching.services.facets import suggestion_facets
from matching.services.suggestions import evidence_of
from matching.services.training import label_set
from parties.models import PartyStatus, SourceRecord
from parties.services.events import not_a_match_event
from parties.services.merge import merged_by, parties_lock


class SuggestionClosed(ValueError):
    """The suggestion was decided (or superseded) meanwhile; nothing was changed."""


def _first_records(party_ids: Iterable[int]) -> dict[int, SourceRecord]:
    records: dict[int, SourceRecord] = {}
    for record in SourceRecord.objects.filter(party_id__in=list(party_ids)).order_by("pk"):
        records.setdefault(record.party_id, record)
    return records


def pairs_decide(
    pairs: Iterable[tuple[int, int]],
    *,
    decision: str,
    user=None,
    suggestion: MatchSuggestion | int | None = None,
    records: dict[int, SourceRecord] | None = None,
    teach: bool = True,
) -> int:
    """Record a decision for each party pair and (``teach``) the matching training label for
    their first source records (``records``: each party's, when they moved in a merge).
    An earlier active decision on the same pair is replaced. Returns the number of pairs."""
    ordered = sorted({tuple(sorted(pair)) for pair in pairs if pair[0] != pair[1]})
    if records is None:
        records = _first_records({pid for pair in ordered for pid in pair})
    label = Label.DISTINCT if decision == Decision.REJECTED else Label.MATCH
    if ordered:
        same_pair = Q()
        for a, b in ordered:
            same_pair |= Q(party_a_id=a, party_b_id=b)
        PairDecision.objects.filter(same_pair, is_active=True).update(is_active=False)
    PairDecision.objects.bulk_create(
        [
            PairDecision(
                party_a_id=a,
                party_b_id=b,
                decision=decision,
                decided_by=user,
                suggestion_id=getattr(suggestion, "pk", suggestion),
            )
            for a, b in ordered
        ]
    )
    if not teach:
        return len(ordered)
    for a, b in ordered:
        if a in records and b in records:
            label_set(
                record_a=records[a], record_b=records[b], label=label, origin=LabelOrigin.QUEUE, user=user
            )
    return len(ordered)


def suggestion_handled(suggestion: MatchSuggestion) -> str:
    """What the loser of a race over a suggestion is told: who decided it, and when."""
    who = suggestion.decided_by.get_username() if suggestion.decided_by else "an automatic rule"
    when = (
        timezone.localtime(suggestion.decided_at).strftime("%Y-%m-%d %H:%M") if suggestion.decided_at else ""
    )
    verb = suggestion.get_status_display().lower()
    return f"suggestion #{suggestion.pk} was already handled ({verb}) by {who}" + (
        f" at {when}" if when else ""
    )


def suggestion_lock(suggestion_id: int) -> tuple[MatchSuggestion, list[int], dict]:
    """Lock a suggestion the one way (``parties_lock``'s docstring): its parties first, in
    primary-key order, then the suggestion. Returns it with its members. Raises
    ``SuggestionClosed`` when its members changed between reading and locking them (a merge
    of some of them committed meanwhile), ``MatchSuggestion.DoesNotExist`` when there is none."""
    members = list(
        MatchSuggestionMember.objects.filter(suggestion_id=suggestion_id).values_list("party_id", flat=True)
    )
    parties = parties_lock(members)
    suggestion = (
        MatchSuggestion.objects.select_for_update(of=("self",))
        .select_related("decided_by")
        .get(pk=suggestion_id)
    )
    now = list(suggestion.members.values_list("party_id", flat=True))
    if set(now) != set(members):
        if suggestion.status != SuggestionStatus.PENDING:
            raise SuggestionClosed(suggestion_handled(suggestion))
        raise SuggestionClosed(
            f"suggestion #{suggestion.pk} was changed by someone else meanwhile; review it again"
        )
    if suggestion.status == SuggestionStatus.CLOSED:
        gone = [p for p in parties.values() if p.status != PartyStatus.ACTIVE]
        if gone:  # closed by the merge of another suggestion that took one of its parties
            raise SuggestionClosed("; ".join(merged_by(p) for p in gone))
    return suggestion, now, parties


@transaction.atomic
def suggestion_reject(*, suggestion_id: int, user, party_id: int | None = None) -> MatchSuggestion:
    """ "Not a match" for a whole suggestion, or for one member (``party_id``): that member
    leaves the cluster, which stays pending while two or more parties remain. Raises
    ``SuggestionClosed`` (saying who handled it) when someone decided it first."""
    suggestion, members, _ = suggestion_lock(suggestion_id)
    if suggestion.status != SuggestionStatus.PENDING:
        raise SuggestionClosed(suggestion_handled(suggestion))
    if party_id is None:
        pairs = list(combinations(members, 2))
        leaving = members
    else:
        if party_id not in members:
            raise ValueError(f"party {party_id} is not in suggestion #{suggestion.pk}")
        pairs = [(party_id, other) for other in members if other != party_id]
        leaving = [party_id]
    pairs_decide(pairs, decision=Decision.REJECTED, user=user, suggestion=suggestion)
    not_a_match_event(
        party_id=party_id or members[0],
        party_ids=members,
        actor=user,
        suggestion_id=suggestion.pk,
        score=suggestion.score,
        reason=f"party {party_id} is not the same customer as the others"
        if party_id
        else "not the same customer",
    )
    if party_id is not None and len(members) > 2:
        MatchSuggestionMember.objects.filter(suggestion=suggestion, party_id__in=leaving).delete()
        remaining = dict(suggestion.members.values_list("party_id", "score"))
        suggestion.score = min(remaining.values())
        suggestion.evidence = evidence_of(party_records(remaining), list(remaining))
        # the queue's size, risk badges ("3 parties") and filters follow the members left
        facets = suggestion_facets([list(remaining)], [suggestion.evidence])[0]
        for name, value in facets.items():
            setattr(suggestion, name, value)
        suggestion.save(update_fields=["score", "evidence", *facets])
        return suggestion
    suggestion.status = SuggestionStatus.REJECTED
    suggestion.decided_at, suggestion.decided_by = timezone.now(), user
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return suggestion


KEEPS_DECISIONS = ("unmerge", "split")  # the parties are back as they were: decisions hold


def decisions_lapse(party_ids: Sequence[int], reason: str = "") -> int:
    """Registered with parties' extension point: when a party's data changes, earlier
    rejections involving it no longer hold and the pair may be suggested again. An unmerge
    or split restores data rather than changing it, and records its own rejection."""
    ids = list(party_ids)
    if not ids or reason in KEEPS_DECISIONS:
        return 0
    # Most changed parties have no decision at all (an import's new customers never do): the
    # indexes answer that first; the UPDATE below joins the parties table (a tenth of an import
    # batch's writing time when it ran for every batch).
    held = list(
        PairDecision.objects.filter(
            Q(party_a_id__in=ids) | Q(party_b_id__in=ids), is_active=True
        ).values_list("pk", flat=True)
    )
    if not held:
        return 0
    # Only decisions taken before the party last changed: a split records its "not a match"
    # pairs after merging its groups, knowing what each group holds.
    return PairDecision.objects.filter(
        Q(party_a_id__in=ids, decided_at__lt=F("party_a__updated_at"))
        | Q(party_b_id__in=ids, decided_at__lt=F("party_b__updated_at")),
        pk__in=held,
        is_active=True,
    ).update(is_active=False)
