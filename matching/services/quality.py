"""Steward quality: known-answer pairs seeded into the merge queue, blind second reviews, and
each steward's agreement rate.

**Known-answer pairs.** An administrator seeds the queue with pairs whose answer is known: from
the truth file (``source,source_key,entity_id``: two active parties holding records of one
entity are one customer; two of different entities sharing a family name are two), or from
past decisions (an active "not a match" between two active parties). Each becomes an ordinary
suggestion of the latest run: same evidence, facets, score and place in the queue, nothing on
the page says it is a check. What the steward decides is what happens, with one exception that
keeps real data safe:

- known "same customer", steward merges: the merge happens (the steward's decision is right);
- known "different", steward says not a match: recorded as usual (it is right, too);
- known "different", steward merges: **nothing is merged**. The merge is refused before any
  party is locked (``known_answer_intercept``), the suggestion is closed, the answer counted,
  and the steward is told (only after deciding) that this was a known-answer check;
- known "same customer", steward says not a match: counted as a disagreement, and the "not a
  match" it recorded is lifted (``quality_checks_sync``) with the truth's label stored instead,
  so the true duplicates are suggested again by the next run.

**Blind second reviews.** An administrator samples decided suggestions (merged or not a match
by a steward); another steward answers each on its own page, seeing the suggestion's stored
evidence but not the first decision nor who made it. Nothing changes in the data: the
disagreements are listed for an administrator to look at.

**Agreement.** Per steward: known-answer checks they answered, and second reviews of their own
decisions, with the share that agreed.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from matching.models import (
    CheckKind,
    Decision,
    Label,
    LabelOrigin,
    MatchRun,
    MatchSettings,
    MatchSuggestion,
    MatchSuggestionMember,
    PairDecision,
    QualityCheck,
    RunStatus,
    SuggestionStatus,
)
from matching.selectors import party_records
from matching.services.facets import suggestion_facets
from matching.services.suggestions import evidence_of
from parties.models import Party, PartyStatus, SourceRecord, SourceSystem
from parties.services.merge import MergeRefused

TRUTH_HEADER = ["source", "source_key", "entity_id"]
SEED_DEFAULT_SCORE = 0.75  # without a trained model: a plausible score, like a run's
SCORE_POOL = 400  # candidate pairs scored at most to find the plausible ones


class KnownAnswerRefused(MergeRefused):
    """A merge of a known-answer pair known to be two customers: nothing was merged."""


class QualityError(ValueError):
    """The request cannot be carried out; the message says what and where."""


def _latest_run() -> MatchRun:
    run = MatchRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-pk").first()
    if run is None:
        raise QualityError(
            "there is no finished match run yet: run matching once, then seed "
            "known-answer pairs (they join the queue of the latest run)"
        )
    return run


def _pair_scores(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float] | None:
    """Each party pair's score under the active model, as a run scores it (None: no model)."""
    from matching.models import MatcherModel
    from matching.services.blocking import matcher_load
    from matching.services.scoring import pair_scores

    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None or not pairs:
        return None
    try:
        matcher = matcher_load(model)
    except Exception:  # noqa: BLE001 - an unloadable model: no scores, not an error
        return None
    records = party_records(sorted({pid for pair in pairs for pid in pair}))
    known = [(a, b) for a, b in pairs if a in records and b in records]
    scored = pair_scores(matcher, [((a, records[a]), (b, records[b])) for a, b in known])
    scores = dict.fromkeys(known, 0.0)
    for (a, b), score in zip(scored["pairs"], scored["score"], strict=True):
        low, high = sorted((int(a), int(b)))
        scores[(low, high)] = float(score)
    return scores


def _plausible(
    candidates: list[tuple[int, int]], count: int, rng: random.Random
) -> list[tuple[tuple[int, int], float]]:
    """Up to ``count`` of the candidate pairs, at random among those a run would suggest (score
    at or above the review threshold), with their scores: a pair scoring 0.02 in the queue
    would give the check away. Without a model, any pair, at a run's usual score."""
    pool = rng.sample(candidates, min(len(candidates), max(SCORE_POOL, 40 * count)))
    scores = _pair_scores(pool)
    if scores is None:
        return [(pair, SEED_DEFAULT_SCORE) for pair in pool[:count]]
    threshold = MatchSettings.current().review_threshold
    return [(pair, scores[pair]) for pair in pool if scores.get(pair, 0.0) >= threshold][:count]


def _busy_pairs() -> set[frozenset[int]]:
    """Party pairs already waiting together in a pending suggestion."""
    members: dict[int, list[int]] = defaultdict(list)
    for suggestion_id, party_id in MatchSuggestionMember.objects.filter(
        suggestion__status=SuggestionStatus.PENDING
    ).values_list("suggestion_id", "party_id"):
        members[suggestion_id].append(party_id)
    return {frozenset((a, b)) for ids in members.values() for a in ids for b in ids if a < b}


def _seed(pairs: list[tuple[int, int, str, float]], *, origin: str, user) -> int:
    """Make each (party, party, known answer, score) an ordinary pending suggestion with its
    check."""
    run = _latest_run()
    made = 0
    for a, b, expected, score in pairs:
        ids = sorted((a, b))
        records = party_records(ids)
        if len(records) < 2:
            continue  # a party merged or erased meanwhile
        member_scores = dict.fromkeys(ids, score)
        evidence = evidence_of(records, ids)
        with transaction.atomic():
            suggestion = MatchSuggestion.objects.create(
                run=run, score=score, evidence=evidence, **suggestion_facets([ids], [evidence])[0]
            )
            MatchSuggestionMember.objects.bulk_create(
                [
                    MatchSuggestionMember(suggestion=suggestion, party_id=pid, score=member_scores[pid])
                    for pid in ids
                ]
            )
            QualityCheck.objects.create(
                kind=CheckKind.KNOWN_ANSWER,
                origin=origin,
                suggestion=suggestion,
                expected=expected,
                created_by=user,
            )
        made += 1
    return made


def known_answers_seed_from_decisions(*, count: int, user=None, seed: int | None = None) -> int:
    """Seed up to ``count`` known-answer pairs from past "not a match" decisions still in force
    between two active parties. Returns how many were seeded."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    busy = _busy_pairs()
    seeded = {frozenset(p) for p in _checked_pairs()}
    candidates = sorted(
        {
            (d.party_a_id, d.party_b_id)
            for d in PairDecision.objects.filter(
                is_active=True,
                decision=Decision.REJECTED,
                party_a__status=PartyStatus.ACTIVE,
                party_b__status=PartyStatus.ACTIVE,
            ).only("party_a_id", "party_b_id")
            if frozenset((d.party_a_id, d.party_b_id)) not in busy | seeded
        }
    )
    if not candidates:
        raise QualityError("no past 'not a match' decision between two active parties is left to seed from")
    chosen = _plausible(candidates, count, rng)
    if not chosen:
        raise QualityError(
            f"none of the {len(candidates)} past 'not a match' pairs scores at or above "
            "the review threshold today: in the queue they would stand out"
        )
    return _seed([(a, b, Label.DISTINCT, score) for (a, b), score in chosen], origin="decisions", user=user)


def _checked_pairs() -> list[tuple[int, ...]]:
    members: dict[int, list[int]] = defaultdict(list)
    for suggestion_id, party_id in MatchSuggestionMember.objects.filter(
        suggestion__checks__kind=CheckKind.KNOWN_ANSWER
    ).values_list("suggestion_id", "party_id"):
        members[suggestion_id].append(party_id)
    return [tuple(sorted(ids)) for ids in members.values()]


def _truth_parties(handle: TextIO) -> dict[str, set[int]]:
    """entity id → the active parties holding its records (a line-numbered error when the file
    is not a truth file)."""
    reader = csv.reader(handle)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != TRUTH_HEADER:
        raise QualityError(
            f"truth file, line 1: the header must be {','.join(TRUTH_HEADER)}, "
            f"not {','.join(header) or 'empty'}"
        )
    sources = dict(SourceSystem.objects.values_list("name", "pk"))
    wanted: dict[tuple[int, str], str] = {}
    errors = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 3:
            errors.append(f"line {line}: expected 3 fields, found {len(row)}")
            continue
        source, key, entity = (cell.strip() for cell in row)
        if source not in sources:
            shown = repr(source[:60]) + ("…" if len(source) > 60 else "")  # not a megabyte back
            errors.append(f"line {line}, column source: no source system named {shown}")
            continue
        wanted[(sources[source], key)] = entity
    if errors:
        raise QualityError(
            "truth file: "
            + "; ".join(errors[:10])
            + (f"; … {len(errors) - 10} more" if len(errors) > 10 else "")
        )
    parties: dict[str, set[int]] = defaultdict(set)
    by_source: dict[int, list[str]] = defaultdict(list)
    for source_id, key in wanted:
        by_source[source_id].append(key)
    for source_id, keys in by_source.items():
        for start in range(0, len(keys), 5000):
            for key, party_id in SourceRecord.objects.filter(
                source_system_id=source_id,
                source_key__in=keys[start : start + 5000],
                party__status=PartyStatus.ACTIVE,
            ).values_list("source_key", "party_id"):
                parties[wanted[(source_id, key)]].add(party_id)
    return parties


def _pending_pairs_unchecked() -> dict[int, tuple[int, int]]:
    """Pending two-party suggestions that are no check yet: suggestion id → party pair."""
    members: dict[int, list[int]] = defaultdict(list)
    for suggestion_id, party_id in MatchSuggestionMember.objects.filter(
        suggestion__status=SuggestionStatus.PENDING, suggestion__size=2, suggestion__checks__isnull=True
    ).values_list("suggestion_id", "party_id"):
        members[suggestion_id].append(party_id)
    return {sid: (min(ids), max(ids)) for sid, ids in members.items() if len(ids) == 2}


def known_answers_seed_from_truth(*, handle: TextIO, count: int, user=None, seed: int | None = None) -> int:
    """Seed up to ``count`` known-answer pairs from a truth file. First, pending two-party
    suggestions whose answer the file knows become checks as they are (nothing could look more
    ordinary); the rest are new suggestions of pairs a run would suggest (``_plausible``): about
    half one customer (two active parties holding one entity's records), half two customers
    sharing a family name (the hard kind). Returns how many were seeded."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    parties = _truth_parties(handle)
    entity_of = {pid: entity for entity, pids in parties.items() for pid in pids}
    waiting = [
        (sid, pair)
        for sid, pair in sorted(_pending_pairs_unchecked().items())
        if pair[0] in entity_of and pair[1] in entity_of
    ]
    tagged = rng.sample(waiting, min(count, len(waiting)))
    QualityCheck.objects.bulk_create(
        [
            QualityCheck(
                kind=CheckKind.KNOWN_ANSWER,
                origin="truth",
                suggestion_id=sid,
                created_by=user,
                expected=Label.MATCH if entity_of[a] == entity_of[b] else Label.DISTINCT,
            )
            for sid, (a, b) in tagged
        ],
        ignore_conflicts=True,
    )
    count -= len(tagged)
    if count <= 0:
        return len(tagged)
    skip = _busy_pairs() | {frozenset(p) for p in _checked_pairs()}
    skip |= {
        frozenset(p)
        for p in PairDecision.objects.filter(is_active=True).values_list("party_a_id", "party_b_id")
    }
    matches = sorted(
        {
            (min(a, b), max(a, b))
            for pids in parties.values()
            for a in pids
            for b in pids
            if a < b and frozenset((a, b)) not in skip
        }
    )
    by_family: dict[str, list[int]] = defaultdict(list)
    for pid, family in (
        Party.objects.filter(pk__in=list(entity_of)).exclude(family_name="").values_list("pk", "family_name")
    ):
        by_family[family.casefold()].append(pid)
    distincts = sorted(
        {
            (min(a, b), max(a, b))
            for pids in by_family.values()
            for a in pids
            for b in pids
            if a < b and entity_of[a] != entity_of[b] and frozenset((a, b)) not in skip
        }
    )
    plausible_matches = _plausible(matches, count, rng) if matches else []
    plausible_distincts = _plausible(distincts, count, rng) if distincts else []
    want_match = min(len(plausible_matches), max(count - min(len(plausible_distincts), count // 2), 0))
    chosen: list[tuple[int, int, str, float]] = [
        (a, b, Label.MATCH, score) for (a, b), score in plausible_matches[:want_match]
    ]
    chosen += [(a, b, Label.DISTINCT, score) for (a, b), score in plausible_distincts[: count - want_match]]
    if not chosen and not tagged:
        raise QualityError(
            "the truth file knows no pending two-party suggestion, and none of its "
            f"{len(matches)} unmerged matches and {len(distincts)} look-alike pairs (not waiting "
            "or decided already) scores at or above the review threshold: in the queue they "
            "would stand out"
        )
    rng.shuffle(chosen)
    return len(tagged) + _seed(chosen, origin="truth", user=user)


def known_answer_intercept(*, suggestion_id: int, user) -> None:
    """Called before a suggestion is merged: when it is a known-answer pair known to be two
    customers, nothing is merged. A steward's merge is counted as their answer and closes the
    suggestion; an automatic merge only leaves it for a steward. Raises ``KnownAnswerRefused``."""
    check = (
        QualityCheck.objects.filter(
            kind=CheckKind.KNOWN_ANSWER,
            suggestion_id=suggestion_id,
            expected=Label.DISTINCT,
            answered_at=None,
            void=False,
        )
        .select_related("suggestion")
        .first()
    )
    if check is None or check.suggestion.status != SuggestionStatus.PENDING:
        return
    if user is None:
        raise KnownAnswerRefused(f"suggestion #{suggestion_id} is left for a steward")
    now = timezone.now()
    with transaction.atomic():
        if not QualityCheck.objects.filter(pk=check.pk, answered_at=None).update(
            answer=Label.MATCH, answered_by=user, subject=user, answered_at=now
        ):
            return
        MatchSuggestion.objects.filter(pk=suggestion_id, status=SuggestionStatus.PENDING).update(
            status=SuggestionStatus.CLOSED, decided_at=now, decided_by=user
        )
    source = "the truth file" if check.origin == "truth" else "an earlier decision"
    raise KnownAnswerRefused(
        f"nothing was merged: suggestion #{suggestion_id} was a known-answer check, and these "
        f"parties are different customers according to {source}. Your answer counts in your "
        "agreement rate on the steward-quality page"
    )


def _first_records(party_ids: Iterable[int]) -> dict[int, SourceRecord]:
    records: dict[int, SourceRecord] = {}
    for record in SourceRecord.objects.filter(party_id__in=list(party_ids)).order_by("pk"):
        records.setdefault(record.party_id, record)
    return records


def quality_checks_sync() -> int:
    """Fill in the answers of known-answer checks decided in the queue (merged: "same
    customer", not a match: "different", by whoever decided); a check whose suggestion closed
    without a steward's decision is void. A wrong "not a match" on a known match is lifted and
    the known label stored. Returns how many checks were answered."""
    from matching.services.training import label_set

    answered = 0
    open_checks = (
        QualityCheck.objects.filter(kind=CheckKind.KNOWN_ANSWER, answered_at=None, void=False)
        .exclude(suggestion__status=SuggestionStatus.PENDING)
        .select_related("suggestion")
    )
    # a split of a known-answer pair (two parties, so two groups of one) says "different"
    answers: dict[str, str] = {
        SuggestionStatus.MERGED: Label.MATCH,
        SuggestionStatus.REJECTED: Label.DISTINCT,
        SuggestionStatus.SPLIT: Label.DISTINCT,
    }
    for check in open_checks:
        suggestion = check.suggestion
        answer = answers.get(suggestion.status)
        with transaction.atomic():
            if answer is None or suggestion.decided_by_id is None:
                QualityCheck.objects.filter(pk=check.pk, answered_at=None).update(void=True)
                continue
            if not QualityCheck.objects.filter(pk=check.pk, answered_at=None).update(
                answer=answer,
                answered_by_id=suggestion.decided_by_id,
                subject_id=suggestion.decided_by_id,
                answered_at=suggestion.decided_at or timezone.now(),
            ):
                continue
            answered += 1
            if check.expected == Label.MATCH and answer == Label.DISTINCT:
                PairDecision.objects.filter(
                    suggestion=suggestion, decision=Decision.REJECTED, is_active=True
                ).update(is_active=False)
                members = list(suggestion.members.values_list("party_id", flat=True))
                records = _first_records(members)
                if len(records) == 2:
                    a, b = records.values()
                    label_set(record_a=a, record_b=b, label=Label.MATCH, origin=LabelOrigin.FILE)
    return answered


# --- blind second reviews -------------------------------------------------------------------


def second_reviews_sample(
    *, count: int, user=None, steward_id: int | None = None, seed: int | None = None
) -> int:
    """Ask for a blind second review of up to ``count`` suggestions a steward decided (merged or
    not a match), at random (of one steward's, with ``steward_id``). Returns how many."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    decided = MatchSuggestion.objects.filter(
        status__in=[SuggestionStatus.MERGED, SuggestionStatus.REJECTED], decided_by__isnull=False
    ).exclude(checks__isnull=False)
    if steward_id:
        decided = decided.filter(decided_by_id=steward_id)
    ids = list(decided.values_list("pk", "status", "decided_by_id"))
    if not ids:
        raise QualityError(
            "no decided suggestion is left to review a second time"
            + (" for that steward" if steward_id else "")
        )
    chosen = rng.sample(ids, min(count, len(ids)))
    QualityCheck.objects.bulk_create(
        [
            QualityCheck(
                kind=CheckKind.SECOND_REVIEW,
                origin="sample",
                suggestion_id=pk,
                expected=Label.MATCH if status == SuggestionStatus.MERGED else Label.DISTINCT,
                subject_id=decider,
                created_by=user,
            )
            for pk, status, decider in chosen
        ],
        ignore_conflicts=True,
    )
    return len(chosen)


def second_review_next(*, user) -> QualityCheck | None:
    """The oldest second review waiting that ``user`` did not make the first decision of."""
    return (
        QualityCheck.objects.filter(kind=CheckKind.SECOND_REVIEW, answered_at=None, void=False)
        .exclude(subject=user)
        .select_related("suggestion")
        .first()
    )


def second_reviews_waiting(*, user) -> int:
    return (
        QualityCheck.objects.filter(kind=CheckKind.SECOND_REVIEW, answered_at=None, void=False)
        .exclude(subject=user)
        .count()
    )


def second_review_answer(*, check_id: int, user, answer: str) -> QualityCheck:
    """Record a second reviewer's answer (once: the first answer counts). Nothing in the data
    changes. Raises ``QualityError`` for one's own decision, an answered check, a bad answer."""
    if answer not in (Label.MATCH, Label.DISTINCT):
        raise QualityError(f"answer {answer!r}: use 'match' or 'distinct'")
    check = QualityCheck.objects.filter(pk=check_id, kind=CheckKind.SECOND_REVIEW).first()
    if check is None:
        raise QualityError(f"there is no second review #{check_id}")
    if check.subject_id == user.pk:
        raise QualityError("a steward cannot review their own decision a second time")
    if not QualityCheck.objects.filter(pk=check.pk, answered_at=None, void=False).update(
        answer=answer, answered_by=user, answered_at=timezone.now()
    ):
        raise QualityError(f"second review #{check_id} was answered already")
    check.refresh_from_db()
    return check


# --- agreement ------------------------------------------------------------------------------


@dataclass
class StewardAgreement:
    steward: object
    known: int = 0
    known_agreed: int = 0
    reviewed: int = 0
    reviewed_agreed: int = 0
    disagreements: list[QualityCheck] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return self.known + self.reviewed

    @property
    def rate(self) -> float | None:
        """Share of the steward's checked decisions that agreed (None: none checked)."""
        return (self.known_agreed + self.reviewed_agreed) / self.checked if self.checked else None


def steward_agreement() -> list[StewardAgreement]:
    """Each steward with checked decisions: known-answer checks they answered and second reviews
    of their own decisions, how many agreed, and the checks that did not; lowest rate first."""
    rows: dict[int | None, StewardAgreement] = {}  # by subject_id, never None here
    checks = (
        QualityCheck.objects.filter(answered_at__isnull=False, subject__isnull=False)
        .select_related("suggestion", "answered_by", "subject")
        .order_by("-answered_at", "-pk")
    )
    for check in checks:
        row = rows.setdefault(check.subject_id, StewardAgreement(steward=check.subject))
        agreed = check.answer == check.expected
        if check.kind == CheckKind.KNOWN_ANSWER:
            row.known += 1
            row.known_agreed += agreed
        else:
            row.reviewed += 1
            row.reviewed_agreed += agreed
        if not agreed:
            row.disagreements.append(check)
    return sorted(rows.values(), key=lambda r: (r.rate if r.rate is not None else 2, str(r.steward)))


def quality_counts() -> dict[str, int]:
    """Open checks, for the page's summary."""
    open_ = QualityCheck.objects.filter(answered_at=None, void=False)
    return {
        "known_open": open_.filter(kind=CheckKind.KNOWN_ANSWER).count(),
        "second_open": open_.filter(kind=CheckKind.SECOND_REVIEW).count(),
        "void": QualityCheck.objects.filter(void=True).count(),
    }


def stewards() -> list:
    """Users who decided suggestions (for the sample's steward filter)."""
    ids = MatchSuggestion.objects.filter(decided_by__isnull=False).values_list("decided_by_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=ids.distinct()).order_by("username"))
