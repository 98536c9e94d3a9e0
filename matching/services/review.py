"""The steward's decisions in the merge queue: merge a suggestion (all of it or the ticked
members), detect and re-score stale suggestions, claim batches, bulk and automatic merges.

Locks: parties first (in primary-key order, ``parties_lock``, whose docstring holds the lock
order of the whole application), then the suggestion. A merge closes other suggestions that
name its parties, so taking the suggestion first could deadlock two stewards merging
overlapping suggestions, or one merging while another rejects; in this order the second one
waits, then finds the parties merged (or the suggestion decided) and is told by whom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from matching.comparisons import COMPARISONS, SIGNALS
from matching.fields import FIELDS
from matching.models import MatchSettings, MatchSuggestion, MatchSuggestionMember, SuggestionStatus
from matching.selectors import party_records
from matching.services.decisions import suggestion_handled
from matching.services.facets import suggestion_facets
from matching.services.suggestions import evidence_of, pair_evidence
from parties.models import EventKind, Party, PartyEvent, PartyStatus
from parties.services.merge import AlreadyHandled, MergeRefused, merged_by, parties_lock, party_merge

CLAIM_MINUTES = 30


class SuggestionStale(ValueError):
    """The suggestion's parties changed since it was made; it was re-scored, not applied."""


def _comparable(evidence: Mapping[str, dict]) -> dict:
    """The members' values per field (the pairs' levels follow from them, their weights from
    the model: neither says whether the parties changed)."""
    return {
        name: {pid: (sorted(v) if isinstance(v, list) else v) for pid, v in item["values"].items()}
        for name, item in evidence.items()
        if name in FIELDS
    }


def suggestion_changes(suggestion: MatchSuggestion, members: Sequence[int]) -> str:
    """Why the suggestion no longer describes its parties ("" if it still does)."""
    records = party_records(members)
    gone = [pid for pid in members if pid not in records]
    if gone:
        return f"party {gone[0]} is no longer active"
    current = evidence_of(records, list(members), weights=None)
    if _comparable(current) != _comparable(suggestion.evidence):
        merge = (
            PartyEvent.objects.filter(
                kind__in=[EventKind.MERGE, EventKind.AUTO_MERGE],
                party_id__in=members,
                created_at__gt=suggestion.created_at,
                reverted_by__isnull=True,
            )
            .order_by("-pk")
            .first()
        )
        if merge is not None:
            absorbed = ", ".join(str(pid) for pid in merge.changes.get("absorbed", []))
            return (
                f"party {merge.party_id} absorbed party {absorbed} since this suggestion was made "
                f"(merged by {merge.actor_label})"
            )
        changed = sorted(
            name
            for name in current
            if name in FIELDS
            and _comparable({name: current[name]})
            != _comparable({name: suggestion.evidence.get(name, {"values": {}})})
        )
        return "the parties changed since this suggestion was made ({})".format(
            ", ".join(n.replace("_", " ") for n in changed)
        )
    return ""


def _scores(members: Sequence[int], records: Mapping[int, dict]) -> dict[int, float] | None:
    """Each member's best score against the others under the active model (None: no model)."""
    from matching.models import MatcherModel
    from matching.services.blocking import matcher_load
    from matching.services.scoring import pair_scores

    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None:
        return None
    matcher = matcher_load(model)
    pairs = [((a, records[a]), (b, records[b])) for a, b in combinations(members, 2)]
    scored = pair_scores(matcher, pairs)
    best = dict.fromkeys(members, 0.0)
    for (a, b), score in zip(scored["pairs"], scored["score"], strict=True):
        best[int(a)] = max(best[int(a)], float(score))
        best[int(b)] = max(best[int(b)], float(score))
    return best


@transaction.atomic
def suggestion_rescore(*, suggestion_id: int) -> MatchSuggestion:
    """Bring a pending suggestion up to date with its parties: members merged away leave,
    evidence and scores are recomputed with the active model. Fewer than two members left:
    the suggestion is closed."""
    # parties first (``parties_lock``): a merge of some of them may be closing this suggestion
    parties_lock(
        MatchSuggestionMember.objects.filter(suggestion_id=suggestion_id).values_list("party_id", flat=True)
    )
    suggestion = MatchSuggestion.objects.select_for_update(of=("self",)).get(pk=suggestion_id)
    members = list(suggestion.members.values_list("party_id", flat=True))
    records = party_records(members)
    active = [pid for pid in members if pid in records]
    MatchSuggestionMember.objects.filter(suggestion=suggestion).exclude(party_id__in=active).delete()
    if len(active) < 2:
        suggestion.status, suggestion.decided_at = SuggestionStatus.CLOSED, timezone.now()
        suggestion.save(update_fields=["status", "decided_at"])
        return suggestion
    scores = _scores(active, records)
    if scores is not None:
        for pid, score in scores.items():
            MatchSuggestionMember.objects.filter(suggestion=suggestion, party_id=pid).update(score=score)
        suggestion.score = min(scores.values())
    suggestion.evidence = evidence_of(records, active)
    for name, value in suggestion_facets([active], [suggestion.evidence])[0].items():
        setattr(suggestion, name, value)
    suggestion.save()
    return suggestion


@dataclass
class MergeResult:
    event: PartyEvent
    suggestion: MatchSuggestion
    survivor_id: int
    merged_ids: list[int] = field(default_factory=list)


def suggestion_merge(
    *,
    suggestion_id: int,
    user=None,
    party_ids: Sequence[int] | None = None,
    survivor_id: int | None = None,
    chosen_values: Mapping[str, str] | None = None,
    automatic: bool = False,
    actor_label: str = "",
) -> MergeResult:
    """Merge the suggestion's parties (or the ticked ``party_ids``, at least two). Raises
    ``AlreadyHandled`` when someone decided it (or merged one of its parties) first,
    ``SuggestionStale`` when its parties changed since it was made (it is re-scored
    instead), ``MergeRefused`` for anything else. Members left out stay pending with the
    survivor."""
    from matching.services.quality import known_answer_intercept

    # a known-answer pair known to be two customers never merges (matching.services.quality)
    known_answer_intercept(suggestion_id=suggestion_id, user=user)
    try:
        # Not durable: a bulk merge job runs it inside its own (durable) transaction with the
        # job's count (matching.services.bulk._handle_one).
        with transaction.atomic():
            return _merge_locked(
                suggestion_id, user, party_ids, survivor_id, chosen_values, automatic, actor_label
            )
    except _Stale as stale:
        raise stale_rescored(suggestion_id, stale) from None


class _Stale(Exception):
    """A decision found the suggestion's parties changed since it was made (inside the lock)."""


def stale_rescored(suggestion_id: int, stale: Exception) -> SuggestionStale:
    """Re-score a suggestion a decision found stale and say so (merge and split alike)."""
    old = MatchSuggestion.objects.get(pk=suggestion_id).score
    fresh = suggestion_rescore(suggestion_id=suggestion_id)
    if fresh.status == SuggestionStatus.CLOSED:
        return SuggestionStale(f"{stale}; the suggestion was closed")
    return SuggestionStale(f"{stale}. It was re-scored ({old:.2f} → {fresh.score:.2f}): review it again")


def _merge_locked(
    suggestion_id, user, party_ids, survivor_id, chosen_values, automatic, actor_label
) -> MergeResult:
    members = list(
        MatchSuggestionMember.objects.filter(suggestion_id=suggestion_id).values_list("party_id", flat=True)
    )
    parties = parties_lock(members)  # parties first: see the module's docstring
    suggestion = (
        MatchSuggestion.objects.select_for_update(of=("self",))
        .select_related("decided_by")
        .get(pk=suggestion_id)
    )
    gone = [p for p in parties.values() if p.status != PartyStatus.ACTIVE]
    if suggestion.status != SuggestionStatus.PENDING and not (
        gone and suggestion.status == SuggestionStatus.CLOSED
    ):
        raise AlreadyHandled(suggestion_handled(suggestion))
    if gone:  # another suggestion's merge took one of its parties (and closed it)
        raise AlreadyHandled("; ".join(merged_by(p) for p in gone))
    if set(suggestion.members.values_list("party_id", flat=True)) != set(members):
        raise AlreadyHandled(f"suggestion #{suggestion.pk} was changed by someone else meanwhile")
    chosen = sorted(set(members if party_ids is None else party_ids))  # [] is "none ticked", not all
    if len(chosen) < 2 or not set(chosen) <= set(members):
        raise MergeRefused("tick at least two parties of the suggestion to merge")
    reason = suggestion_changes(suggestion, members)
    if reason:
        raise _Stale(reason)
    event = party_merge(
        party_ids=chosen,
        survivor_id=survivor_id,
        actor=user,
        actor_label=actor_label or (user.get_username() if user else "system"),
        kind=EventKind.AUTO_MERGE if automatic else EventKind.MERGE,
        suggestion_id=suggestion.pk,
        score=suggestion.score,
        chosen_values=chosen_values,
    )
    survivor = event.party_id
    absorbed = [pid for pid in chosen if pid != survivor]
    remaining = [pid for pid in members if pid not in absorbed]
    if len(remaining) >= 2:
        # The unticked members stay in the queue, now paired with the survivor.
        MatchSuggestionMember.objects.filter(suggestion=suggestion, party_id__in=absorbed).delete()
        records = party_records(remaining)
        suggestion.evidence = evidence_of(records, remaining)
        suggestion.score = min(
            MatchSuggestionMember.objects.filter(suggestion=suggestion).values_list("score", flat=True)
        )
        for name, value in suggestion_facets([remaining], [suggestion.evidence])[0].items():
            setattr(suggestion, name, value)
        suggestion.claimed_by = suggestion.claimed_at = None
        suggestion.save()
    else:
        suggestion.status = SuggestionStatus.MERGED
        suggestion.decided_at, suggestion.decided_by = timezone.now(), user
        suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return MergeResult(event=event, suggestion=suggestion, survivor_id=survivor, merged_ids=absorbed)


# --- claims --------------------------------------------------------------------------------


def claim_cutoff():
    return timezone.now() - timedelta(minutes=CLAIM_MINUTES)


def claimable(queryset: QuerySet[MatchSuggestion], user) -> QuerySet[MatchSuggestion]:
    return queryset.filter(status=SuggestionStatus.PENDING).filter(
        Q(claimed_by__isnull=True) | Q(claimed_by=user) | Q(claimed_at__lt=claim_cutoff())
    )


@transaction.atomic
def suggestions_claim(*, user, queryset: QuerySet[MatchSuggestion], count: int = 20) -> int:
    """Claim the next ``count`` suggestions of ``queryset`` (in its order) that nobody else
    holds, for ``CLAIM_MINUTES``. Rows another steward is claiming at this moment are
    skipped, not waited for."""
    candidates = claimable(queryset, user).exclude(claimed_by=user)
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    ids = list(candidates.values_list("pk", flat=True)[:count])
    return MatchSuggestion.objects.filter(pk__in=ids).update(claimed_by=user, claimed_at=timezone.now())


def suggestion_claim_on_open(*, suggestion_id: int, user) -> bool:
    """Opening a pending suggestion nobody holds claims it for the steward, so a colleague
    opening it meanwhile is warned. One conditional UPDATE: two stewards opening it at the
    same moment cannot both hold it."""
    return bool(
        MatchSuggestion.objects.filter(pk=suggestion_id, status=SuggestionStatus.PENDING)
        .filter(Q(claimed_by__isnull=True) | Q(claimed_at__lt=claim_cutoff()))
        .update(claimed_by=user, claimed_at=timezone.now())
    )


def suggestions_release(*, user) -> int:
    return MatchSuggestion.objects.filter(claimed_by=user, status=SuggestionStatus.PENDING).update(
        claimed_by=None, claimed_at=None
    )


# --- bulk and automatic merges ---------------------------------------------------------------


@dataclass
class BulkResult:
    merged: int = 0
    parties_merged: int = 0
    refused: list[str] = field(default_factory=list)


def suggestions_merge_bulk(
    *, suggestion_ids: Sequence[int], user=None, automatic: bool = False, actor_label: str = ""
) -> BulkResult:
    """Merge each suggestion in its own transaction: one refusal does not undo the rest."""
    result = BulkResult()
    for suggestion_id in suggestion_ids:
        try:
            merged = suggestion_merge(
                suggestion_id=suggestion_id, user=user, automatic=automatic, actor_label=actor_label
            )
        except (MergeRefused, SuggestionStale) as exc:
            result.refused.append(f"#{suggestion_id}: {exc}")
        except MatchSuggestion.DoesNotExist:
            result.refused.append(f"#{suggestion_id}: no such suggestion")
        else:
            result.merged += 1
            result.parties_merged += len(merged.merged_ids)
    return result


def bulk_merge_preview(suggestion_ids: Sequence[int]) -> tuple[int, int]:
    """(suggestions still pending, parties that would merge away) for a confirmation."""
    pending = MatchSuggestion.objects.filter(pk__in=list(suggestion_ids), status=SuggestionStatus.PENDING)
    return pending.count(), sum(s.size - 1 for s in pending.only("size"))


def suggestions_auto_merge(*, run_id: int) -> BulkResult:
    """Merge a run's suggestions scoring at or above the auto-merge threshold, recorded as
    automatic merges (reversible like any other)."""
    threshold = MatchSettings.current().auto_merge_threshold
    if threshold is None:
        return BulkResult()
    ids = list(
        MatchSuggestion.objects.filter(
            run_id=run_id, status=SuggestionStatus.PENDING, score__gte=threshold
        ).values_list("pk", flat=True)
    )
    return suggestions_merge_bulk(
        suggestion_ids=ids, automatic=True, actor_label=f"auto-merge (score ≥ {threshold:.2f})"
    )


# --- why the matcher suggests it ---------------------------------------------------------------

_LABELS = {c.name: c.label for c in COMPARISONS}
_ORDER = {c.name: i for i, c in enumerate(COMPARISONS)}
_SIGNAL_COMPARISON = {text: name for (name, _), text in SIGNALS.items()}
HOUSEHOLD = "cmp:household"
NEGATIVE_SIGNALS = frozenset({"cmp:identifier", "cmp:address"})  # when no weight says which way


@dataclass
class Contribution:
    label: str  # "Given name"
    level: str  # "nickname"
    weight: float | None = None  # the log-odds it adds (None: not stored with the suggestion)

    @property
    def weight_text(self) -> str:
        """ "+4.8", "−21.9" (a real minus sign): the sign is read, not only the colour seen."""
        if self.weight is None:
            return ""
        return f"+{self.weight:.1f}" if self.weight >= 0 else f"\u2212{-self.weight:.1f}"


@dataclass
class Signal:
    text: str
    against: bool  # its comparison counts against one customer


@dataclass
class PairReasons:
    """One member against another (the first column of the review page)."""

    party_id: int
    party_name: str
    against_id: int
    against_name: str
    signals: list[Signal]
    household: Contribution | None  # the two look like two people of one household
    supporting: list[Contribution]  # weight ≥ 0, strongest first (every level when not weighed)
    opposing: list[Contribution]  # weight < 0, strongest first
    weighed: bool
    computed_now: bool  # an older suggestion, stored without its pairs: from today's data


def _pair_reasons(pair: Mapping, member: Party, anchor: Party, computed_now: bool) -> PairReasons:
    comparisons = pair.get("comparisons") or {}
    items = sorted(comparisons.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER)))
    weighed = any("weight" in item for _, item in items)
    contributions = {
        name: Contribution(
            _LABELS.get(name, name.removeprefix("cmp:")), item.get("level", ""), item.get("weight")
        )
        for name, item in items
    }
    household = contributions.pop(HOUSEHOLD, None)
    if not pair.get("household"):
        household = None
    listed = list(contributions.values())
    if weighed:
        supporting = sorted((c for c in listed if (c.weight or 0) >= 0), key=lambda c: -(c.weight or 0))
        opposing = sorted((c for c in listed if (c.weight or 0) < 0), key=lambda c: c.weight or 0)
    else:
        supporting, opposing = listed, []
    signals = []
    for text in pair.get("signals") or []:
        name = _SIGNAL_COMPARISON.get(text, "")
        if name == HOUSEHOLD:
            continue  # shown as the household warning
        weight = contributions[name].weight if name in contributions else None
        signals.append(Signal(text, against=weight < 0 if weight is not None else name in NEGATIVE_SIGNALS))
    return PairReasons(
        party_id=member.pk,
        party_name=member.display_name or str(member.pk),
        against_id=anchor.pk,
        against_name=anchor.display_name or str(anchor.pk),
        signals=signals,
        household=household,
        supporting=supporting,
        opposing=opposing,
        weighed=weighed,
        computed_now=computed_now,
    )


def suggestion_reasons(suggestion: MatchSuggestion, parties: Sequence[Party]) -> list[PairReasons]:
    """Why the matcher put these parties together: each member of ``parties`` (in the review
    page's order) against the first, from the pairs stored with the suggestion (a member
    without a stored pair with the first: against the member before it that has one). A
    suggestion made before pairs were stored is compared on the parties' current data,
    without weights."""
    if len(parties) < 2:
        return []
    stored = (suggestion.evidence or {}).get("pairs")
    computed_now = stored is None
    if stored is None:
        ids = [p.pk for p in parties]
        records = party_records(ids)
        stored = [
            pair_evidence(ids[0], other, records[ids[0]], records[other])
            for other in ids[1:]
            if ids[0] in records and other in records
        ]
    by_pair = {frozenset(pair.get("parties") or ()): pair for pair in stored}
    reasons = []
    for position, member in enumerate(parties[1:], start=1):
        for anchor in (parties[0], *reversed(parties[1:position])):
            pair = by_pair.get(frozenset((member.pk, anchor.pk)))
            if pair is not None:
                reasons.append(_pair_reasons(pair, member, anchor, computed_now))
                break
    return reasons
