"""Match on entry: which existing parties a customer about to be entered is most likely to be.

A candidate (names, birth date, emails, phones, address, identifier — a canonical import row)
is standardized exactly as an import standardizes a row (``parties.services.records``: phones
read in the customer's country), flattened as a party is flattened for matching, and given
the block keys a run would give it: the active model's learned predicates and the standard
rules that are switched on. The parties sharing those keys are found in the stored block-key
table (indexed lookups; keys shared by more than ``C360_MATCHING_MAX_BLOCK`` parties left out,
as in runs; at most ``CANDIDATES_MAX`` parties, those sharing the most keys, strong keys
first), scored with the active model as a run scores them, and explained with the evidence
the merge queue shows.

``party_match_create`` also creates the party (as an import creates one) and, when a match
reaches the review threshold, a pending suggestion in the same transaction: the duplicate
lands in the merge queue instead of silently next to its twin. The suggestion belongs to the
incremental run that re-matches the new party (queued with it), which keeps it when it finds
the same cluster and supersedes it when it finds another.

Parties created since the last run have no block keys until their run fingerprints them; the
new party's keys are written at once, so a second entry of the same customer finds the first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from matching.classifier import EvidenceClassifier
from matching.models import (
    BlockKey,
    MatcherModel,
    MatchSettings,
    MatchSuggestion,
    MatchSuggestionMember,
    OversizedBlock,
    PairDecision,
    SuggestionStatus,
)
from matching.rules import STRONG_PREFIXES, record_keys
from matching.selectors import match_records, party_records, rows_for_ids
from matching.services.blocking import matcher_load
from matching.services.scoring import STANDARD_KEY_WEIGHT, pair_scores
from matching.services.suggestions import ALL_PAIRS_UP_TO, evidence_of, level_weights_of, pair_evidence
from matching.services.thresholds import REVIEW_MIN
from parties.columns import CANONICAL_COLUMNS
from parties.extensions import PossibleDuplicate, parties_changed_notify
from parties.models import Party, PartyStatus, SourceRecord, SourceSystem
from parties.services import standardize as std
from parties.services.golden import golden_values
from parties.services.party_create import parties_create_from_rows
from parties.services.records import NewRecord, StandardizedRow, row_identifies_party, row_standardize

CANDIDATES_MAX = 200  # parties scored per request at most (those sharing the most block keys)
LIMIT_DEFAULT, LIMIT_MAX = 10, 50
POPULATION_TTL = 300.0  # seconds the active-party count (the classifier's prior) is reused

# The canonical columns a candidate may give: an import row's, without source_key/updated_at
CANDIDATE_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in ("source_key", "updated_at"))
CANDIDATE_COLUMNS = (
    "party_type",
    "salutation",
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "organization_name",
    "birth_date",
    "gender",
    "email",
    "email_2",
    "phone",
    "phone_2",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "identifier_type",
    "identifier_value",
)


class NoActiveModel(RuntimeError):
    """There is no trained matcher model to match with."""

    def __init__(self) -> None:
        super().__init__(
            "There is no trained matcher yet: train the matcher (Matching → Training) before "
            "matching customers on entry."
        )


class RecordExists(RuntimeError):
    """The source system already holds a record with this key."""

    def __init__(self, *, source: str, source_key: str, party_id: int) -> None:
        super().__init__(f"{source} already has a record {source_key!r}: party {party_id}.")
        self.party_id = party_id


@dataclass(frozen=True)
class EntryMatch:
    party_id: int
    display_name: str
    kind: str
    score: float
    band: str  # "auto_merge" | "review" | "below"
    evidence: dict  # the comparisons' levels in words, signals, household (pair_evidence)
    shared_keys: int  # block keys shared with the candidate (standard ones weigh 3)
    suggestion_id: int | None = None  # a pending suggestion naming this party (pages link it)


@dataclass
class EntryResult:
    matches: list[EntryMatch]
    model_id: int
    review_threshold: float
    auto_merge_threshold: float | None
    block_keys: int  # the candidate's
    candidates: int  # parties found through them and scored
    created_party_id: int | None = None
    suggestion_id: int | None = None
    problems: list[dict[str, str]] = field(default_factory=list)  # values standardization could not read


# ---------------------------------------------------------------------------------------------
# The active model, loaded once per process


_loaded: dict[tuple, Any] = {}
_population: dict[str, float] = {}


def _active_matcher() -> tuple[int, Any]:
    row = MatcherModel.objects.filter(is_active=True).values_list("pk", "trained_at").first()
    if row is None:
        raise NoActiveModel()
    if row not in _loaded:
        _loaded.clear()
        _loaded[row] = matcher_load(MatcherModel.objects.get(pk=row[0]))
    matcher = _loaded[row]
    if hasattr(matcher.classifier, "prior_for"):
        # the prior shrinks with the data (runs set it the same way); counting a million active
        # parties costs more than a whole match, so the count is reused for a few minutes
        now = time.monotonic()
        if now - _population.get("at", -POPULATION_TTL) >= POPULATION_TTL:
            _population["count"] = Party.objects.active().count()
            _population["at"] = now
        matcher.classifier.parties = int(_population["count"])
    return row[0], matcher


def _weights(matcher: Any) -> dict[str, list[float]] | None:
    """What ``level_weights_of`` gives for the loaded model, without asking the database again."""
    classifier = getattr(matcher, "classifier", None)
    if not isinstance(classifier, EvidenceClassifier):
        return None
    if not hasattr(matcher, "_entry_weights"):
        matcher._entry_weights = classifier.level_weights()
    return matcher._entry_weights


# ---------------------------------------------------------------------------------------------
# The candidate


def candidate_standardize(
    *, candidate: Mapping[str, Any], source: SourceSystem | None = None
) -> StandardizedRow:
    """The candidate as an import standardizes a row of ``source`` (its date order and phone
    region; without one, ISO dates and the address country). Raises ``ValidationError`` naming
    unknown fields, and when nothing names or reaches the customer."""
    unknown = sorted(set(candidate) - set(CANDIDATE_COLUMNS) - {"source_key"})
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "unknown field."))
    raw = {name: str(candidate[name]) for name in CANDIDATE_COLUMNS if candidate.get(name) not in (None, "")}
    row = row_standardize(
        raw, source=source or SourceSystem(name="entry", default_region="", date_order="YMD")
    )
    if not row_identifies_party(row):
        raise ValidationError(
            {
                "non_field_errors": "the candidate names nobody: give a name, an email address, a phone "
                "number or an identifier."
            }
        )
    return row


def row_record(row: StandardizedRow, *, trust_rank: int = 1) -> dict:
    """The flat record a party made of this one row would have (``party_records``' shape)."""
    standardized = row.as_json()
    identifier = standardized.get("identifier")
    from matching.fields import flat_record

    return flat_record(
        attributes=golden_values([(trust_rank, row)]),
        emails=standardized["emails"],
        phones=standardized["phones"],
        address=standardized["address"],
        identifiers=[f"{identifier['type']}:{identifier['normalized']}"] if identifier else [],
    )


def record_block_keys(matcher: Any, record: dict, rules: Iterable[str] | None = None) -> list[str]:
    """The block keys a run would store for a party with this record: the model's learned
    predicates (index predicates need every party indexed: left out) and the standard rules
    switched on."""
    keys: list[str] = []
    for i, predicate in enumerate(matcher.fingerprinter.predicates):
        if any(hasattr(part, "index") for part in predicate):
            continue
        keys.extend(f"{key}:{i}"[:255] for key in predicate(record, target=False))
    keys.extend(record_keys(record, MatchSettings.current().rules_enabled() if rules is None else rules))
    return list(dict.fromkeys(keys))


# ---------------------------------------------------------------------------------------------
# Finding and scoring


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _candidate_parties(keys: Sequence[str], exclude: Iterable[int], limit: int) -> list[tuple[int, int]]:
    """(party id, shared key weight) of the active parties sharing the most of ``keys``."""
    if not keys:
        return []
    quote = connection.ops.quote_name
    table, oversized = quote(BlockKey._meta.db_table), quote(OversizedBlock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT block_key FROM {oversized} WHERE block_key IN ({_marks(len(keys))})",  # noqa: S608
            list(keys),
        )
        big = {row[0] for row in cursor.fetchall()}
        usable = [key for key in keys if key not in big]
        if not usable:
            return []
        strong = " OR ".join(f"k.block_key LIKE '{prefix}%%'" for prefix in STRONG_PREFIXES)
        excluded = sorted(set(exclude))
        not_in = f"AND k.party_id NOT IN ({_marks(len(excluded))}) " if excluded else ""
        cursor.execute(
            f"SELECT k.party_id, SUM(CASE WHEN k.block_key LIKE '~%%' THEN {STANDARD_KEY_WEIGHT} "  # noqa: S608
            f"ELSE 1 END) AS shared, MAX(CASE WHEN {strong} THEN 1 ELSE 0 END) AS strong "
            f"FROM {table} k JOIN {quote(Party._meta.db_table)} p ON p.id = k.party_id "
            f"WHERE k.block_key IN ({_marks(len(usable))}) {not_in}"
            "AND p.status = %s AND p.erased_at IS NULL "
            "GROUP BY k.party_id ORDER BY strong DESC, shared DESC, k.party_id LIMIT %s",
            [*usable, *excluded, PartyStatus.ACTIVE, limit],
        )
        return [(int(pid), int(shared)) for pid, shared, _ in cursor.fetchall()]


def _rejected_with(party_id: int, others: Sequence[int]) -> set[int]:
    """The parties a steward said are not ``party_id``'s customer (shown to nobody again)."""
    rejected: set[int] = set()
    for a, b in (
        PairDecision.objects.filter(is_active=True, decision="rejected")
        .filter(party_a_id__in=[party_id, *others], party_b_id__in=[party_id, *others])
        .values_list("party_a_id", "party_b_id")
    ):
        if party_id in (a, b):
            rejected.add(b if a == party_id else a)
    return rejected


def _band(score: float, review: float, auto: float | None) -> str:
    if auto is not None and score >= auto:
        return "auto_merge"
    return "review" if score >= review else "below"


def record_matches_find(
    *,
    record: dict,
    exclude: Iterable[int] = (),
    limit: int = LIMIT_DEFAULT,
    min_score: float = REVIEW_MIN,
    with_suggestions: bool = False,
) -> EntryResult:
    """The existing parties most like ``record`` (a flat record), best first, at most
    ``limit``, scoring at least ``min_score``. Raises ``NoActiveModel``."""
    model_id, matcher = _active_matcher()
    current = MatchSettings.current()
    keys = record_block_keys(matcher, record, current.rules_enabled())
    excluded = list(exclude)
    found = _candidate_parties(keys, excluded, CANDIDATES_MAX)
    if excluded and found:
        skip = _rejected_with(excluded[0], [pid for pid, _ in found]) if len(excluded) == 1 else set()
        found = [(pid, shared) for pid, shared in found if pid not in skip]
    shared_of = dict(found)
    records = match_records(shared_of)
    pairs = [((0, record), (pid, records[pid])) for pid in shared_of if pid in records]
    scores = pair_scores(matcher, pairs)
    ranked = sorted(
        (
            (float(s), int(p[1]))
            for p, s in zip(scores["pairs"], scores["score"], strict=True)
            if s >= min_score
        ),
        key=lambda item: (-item[0], item[1]),
    )[: max(1, min(limit, LIMIT_MAX))]
    ids = [pid for _, pid in ranked]
    names = {pid: (name, kind) for pid, name, kind in _names(ids)} if ids else {}
    pending = (
        _pending_suggestions(ids, excluded[0] if len(excluded) == 1 else None) if with_suggestions else {}
    )
    weights = _weights(matcher)
    matches = [
        EntryMatch(
            party_id=pid,
            display_name=names.get(pid, ("", ""))[0],
            kind=names.get(pid, ("", ""))[1],
            score=round(score, 4),
            band=_band(score, current.review_threshold, current.auto_merge_threshold),
            evidence=_evidence(record, records[pid], pid, weights),
            shared_keys=shared_of[pid],
            suggestion_id=pending.get(pid),
        )
        for score, pid in ranked
    ]
    return EntryResult(
        matches=matches,
        model_id=model_id,
        review_threshold=current.review_threshold,
        auto_merge_threshold=current.auto_merge_threshold,
        block_keys=len(keys),
        candidates=len(pairs),
    )


def _names(ids: Sequence[int]) -> list[tuple[int, str, str]]:
    return [
        (int(pid), name, kind)
        for pid, name, kind in rows_for_ids(
            f"SELECT id, display_name, kind FROM {connection.ops.quote_name(Party._meta.db_table)} "  # noqa: S608
            "WHERE id {ids}",
            ids,
        )
    ]


def _evidence(candidate: dict, other: dict, party_id: int, weights) -> dict:
    evidence = pair_evidence(0, party_id, candidate, other, weights)
    return {
        "comparisons": evidence["comparisons"],
        "signals": evidence["signals"],
        "household": evidence["household"],
    }


def _pending_suggestions(ids: Sequence[int], party_id: int | None) -> dict[int, int]:
    """Per party of ``ids``, a pending suggestion naming it (and ``party_id``, when given)."""
    members = MatchSuggestionMember.objects.filter(
        party_id__in=list(ids), suggestion__status=SuggestionStatus.PENDING
    )
    if party_id is not None:
        members = members.filter(
            suggestion__in=MatchSuggestionMember.objects.filter(party_id=party_id).values("suggestion_id")
        )
    found: dict[int, int] = {}
    for pid, sid in members.order_by("suggestion_id").values_list("party_id", "suggestion_id"):
        found.setdefault(pid, sid)
    return found


# ---------------------------------------------------------------------------------------------
# The services callers use


def party_match(
    *,
    candidate: Mapping[str, Any],
    source: SourceSystem | None = None,
    limit: int = LIMIT_DEFAULT,
) -> EntryResult:
    """The existing parties most likely to be ``candidate``'s customer, best first, with
    score, band and evidence. Writes nothing. Raises ``ValidationError`` for a candidate that
    names nobody or has unknown fields, ``NoActiveModel`` without a trained matcher."""
    row = candidate_standardize(candidate=candidate, source=source)
    result = record_matches_find(
        record=row_record(row, trust_rank=source.trust_rank if source else 1), limit=limit
    )
    result.problems = [{"field": p.field, "value": p.value, "reason": p.reason} for p in row.problems]
    return result


@transaction.atomic
def party_match_create(
    *,
    candidate: Mapping[str, Any],
    source: SourceSystem,
    source_key: str,
    limit: int = LIMIT_DEFAULT,
    actor: Any = None,
) -> EntryResult:
    """Match ``candidate``, then create it as a new party (source record in ``source`` under
    ``source_key``, as an import creates one) and, when a match reaches the review
    threshold, a pending suggestion of the new party with its best matches (up to
    ``ALL_PAIRS_UP_TO`` members), all in one transaction. Raises ``RecordExists`` when the
    source already holds that key, ``ValidationError``/``NoActiveModel`` as ``party_match``."""
    source_key = std.collapse(source_key)
    if not source_key:
        raise ValidationError({"source_key": "give the customer's key in the source system."})
    existing = SourceRecord.objects.filter(source_system=source, source_key=source_key).values_list(
        "party_id", flat=True
    )
    if existing:
        raise RecordExists(source=source.name, source_key=source_key, party_id=existing[0])
    row = candidate_standardize(candidate=candidate, source=source)
    row.source_key = source_key
    result = record_matches_find(record=row_record(row, trust_rank=source.trust_rank), limit=limit)
    result.problems = [{"field": p.field, "value": p.value, "reason": p.reason} for p in row.problems]
    raw = {
        "source_key": source_key,
        **{k: str(v) for k, v in candidate.items() if k in CANDIDATE_COLUMNS and v not in (None, "")},
    }
    try:
        with transaction.atomic():  # a savepoint: the same key entered at the same moment
            (created,) = parties_create_from_rows(source=source, records=[NewRecord(raw, row)], actor=actor)
    except IntegrityError:
        party_id = (
            SourceRecord.objects.filter(source_system=source, source_key=source_key)
            .values_list("party_id", flat=True)
            .first()
        )
        if party_id is None:
            raise
        raise RecordExists(source=source.name, source_key=source_key, party_id=party_id) from None
    new_id = created.party_id
    result.created_party_id = new_id
    _, matcher = _active_matcher()
    if not matcher.fingerprinter.index_fields:
        from matching.services.blocking import block_keys_write

        block_keys_write(matcher, [new_id])  # findable by the next entry before its run
    likely = [m for m in result.matches if m.score >= result.review_threshold][: ALL_PAIRS_UP_TO - 1]
    if likely:
        result.suggestion_id = _suggestion_create(new_id, likely, result.model_id)
    transaction.on_commit(lambda: parties_changed_notify([new_id], reason="entered"))
    return result


def _suggestion_create(new_id: int, likely: Sequence[EntryMatch], model_id: int) -> int:
    """A pending suggestion of the new party and ``likely`` (scored against it), written as a
    run writes one: evidence around the new party, the queue's facets, the members' scores."""
    from matching.services.facets import suggestion_facets
    from matching.services.runs import match_run_request

    run = match_run_request(party_ids=[new_id])  # the run that re-matches it owns the suggestion
    if run is None:  # the model was deactivated meanwhile
        raise NoActiveModel()
    members = [new_id, *(m.party_id for m in likely)]
    scores = {new_id: likely[0].score, **{m.party_id: m.score for m in likely}}
    records = party_records(members)
    evidence = evidence_of(records, members, weights=level_weights_of(model_id), center=new_id)  # as runs
    (facets,) = suggestion_facets([members], [evidence])
    suggestion = MatchSuggestion.objects.create(
        run=run,
        score=min(scores.values()),
        evidence=evidence,
        size=len(members),
        **{k: v for k, v in facets.items() if k != "size"},
    )
    MatchSuggestionMember.objects.bulk_create(
        [MatchSuggestionMember(suggestion=suggestion, party_id=pid, score=scores[pid]) for pid in members]
    )
    return suggestion.pk


def party_duplicates_find(
    *,
    party_id: int,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    region: str = "",
    limit: int = 5,
) -> EntryResult | None:
    """For the party page and its contact-point form: the other parties most like this one,
    with ``emails``/``phones`` added as the form would add them (raw values, standardized
    like the contact-point service: phones in ``region`` or the party's country). Pairs a
    steward called not a match are left out. None without a trained model or for a party
    that is not active."""
    records = party_records([party_id])
    if party_id not in records:
        return None
    record = dict(records[party_id])
    extra_emails = [e.value for e in map(std.email_normalize, emails) if e.value]
    country = (record.get("country") or "").upper()
    extra_phones = [
        p.normalized
        for p in (std.phone_normalize(raw, region.upper(), address_country=country) for raw in phones)
        if p.normalized
    ]
    if extra_emails or extra_phones:
        from matching.fields import flat_record

        given, family = record.get("given_name"), record.get("family_name")
        record = flat_record(
            attributes={
                "given_name": given,
                "family_name": family,
                "organization_name": record.get("organization_name"),
                "birth_date": record.get("birth_date"),
            },
            emails=[*(record.get("emails") or ()), *extra_emails],
            phones=[*(record.get("phones") or ()), *extra_phones],
            address={
                "line1": record.get("address_line1"),
                "city": record.get("city"),
                "postal_code": record.get("postal_code"),
                "country": record.get("country"),
            },
            identifiers=record.get("identifiers") or (),
        )
    try:
        return record_matches_find(record=record, exclude=[party_id], limit=limit, with_suggestions=True)
    except NoActiveModel:
        return None


_BAND_WORDS = {"auto_merge": "auto-merge", "review": "review", "below": "below review"}


def possible_duplicates(
    *, user: Any, party_id: int, emails: Sequence[str] = (), phones: Sequence[str] = (), region: str = ""
) -> list[PossibleDuplicate] | None:
    """Registered with parties' duplicate check (the party page and its contact-point form):
    ``party_duplicates_find`` in the shape parties shows."""
    from django.urls import reverse

    result = party_duplicates_find(party_id=party_id, emails=emails, phones=phones, region=region)
    if result is None:
        return None
    may_review = user.has_perm("matching.view_matchsuggestion")
    return [
        PossibleDuplicate(
            party_id=m.party_id,
            display_name=m.display_name,
            score=m.score,
            band=_BAND_WORDS[m.band],
            url=reverse("parties:detail", args=[m.party_id]),
            suggestion_id=m.suggestion_id if may_review else None,
            suggestion_url=reverse("matching:review", args=[m.suggestion_id])
            if may_review and m.suggestion_id
            else "",
        )
        for m in result.matches
    ]
