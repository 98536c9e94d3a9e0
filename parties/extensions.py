"""Extension points of the parties app.

``parties`` depends on no other app. Where it must let others act — a file kind they import,
parties that changed and need re-matching, two parties merged — other apps register here from
their ``AppConfig.ready()``. Each registry is a plain list or dict; nothing is discovered
implicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """What one committed batch of an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    issues: int = 0
    changed_party_ids: Sequence[int] = ()


@dataclass(frozen=True)
class ImportKind:
    """A kind of source file: its canonical columns, header synonyms, and how a batch of
    rows is written: ``handle_batch(*, job, source, rows, mapping, prepared) -> BatchResult``,
    called inside the batch's transaction with ``rows`` a list of ``readers.RawRow``.

    ``prepare_batch(rows, mapping, source, job_id, now)``, when given, does the CPU-heavy part without the
    database (parsing, standardizing); large jobs run it in worker processes in parallel and
    pass its result to ``handle_batch`` as ``prepared``. It must be a module-level function."""

    name: str
    label: str
    columns: Sequence[str]
    required: Sequence[str]
    synonyms: dict[str, Sequence[str]]
    handle_batch: Callable[..., BatchResult]
    prepare_batch: Callable[..., Any] | None = None
    description: str = ""
    example_path: str = ""
    permission: str = "parties.add_importjob"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeContext:
    """What a merge, unmerge or split is about, as the other apps see it."""

    kind: str  # an EventKind value
    survivor_id: int
    other_ids: Sequence[int]  # absorbed parties (merge, unmerge) or the new party (split)
    actor: Any = None  # a user, or None for a rule
    suggestion_id: int | None = None
    moved_record_ids: Sequence[int] = ()  # split: the source records that moved
    first_records: Mapping[int, int] = field(default_factory=dict)  # merge: party → its first
    # source record's id before the merge moved them all to the survivor
    keep_apart: bool = True  # unmerge: the steward said "different customers" (False: "undo for
    # now", the parties may be suggested together again)


@dataclass(frozen=True)
class MergeParticipant:
    """Another app's part in merges. ``on_merge(ctx)`` moves its own rows to the survivor
    and returns what it needs to undo that (JSON); ``on_unmerge(ctx, state)`` undoes it;
    ``on_split(ctx)`` reacts to a split; ``conflicts(party_ids)`` says what a merge of those
    parties would put in conflict (shown before merging). All run inside the merge's
    transaction: a failure undoes the whole merge."""

    name: str
    on_merge: Callable[[MergeContext], Any] | None = None
    on_unmerge: Callable[[MergeContext, Any], None] | None = None
    on_split: Callable[[MergeContext], None] | None = None
    conflicts: Callable[[Sequence[int]], list[str]] | None = None
    # For many clusters at once (the merge queue's risk order): which would conflict.
    conflicting: Callable[[Sequence[Sequence[int]]], list[bool]] | None = None


_import_kinds: dict[str, ImportKind] = {}
_merge_participants: dict[str, MergeParticipant] = {}
_parties_changed_hooks: list[Callable[[Sequence[int], str], None]] = []


def import_kind_register(kind: ImportKind) -> None:
    _import_kinds[kind.name] = kind


def import_kind_get(name: str) -> ImportKind:
    try:
        return _import_kinds[name]
    except KeyError:
        known = ", ".join(sorted(_import_kinds)) or "none"
        raise KeyError(f"unknown file kind {name!r} (known: {known})") from None


def import_kinds() -> list[ImportKind]:
    return sorted(_import_kinds.values(), key=lambda k: k.name)


def import_kinds_for(user) -> list[ImportKind]:
    """The kinds of file the user may import (each kind names its permission: customer files
    need ``parties.add_importjob``, consent lists the permission to change consents)."""
    return [kind for kind in import_kinds() if user.has_perm(kind.permission)]


def parties_changed_register(hook: Callable[[Sequence[int], str], None]) -> None:
    """``hook(party_ids, reason)`` is called after a commit that created or changed parties
    (matching registers its incremental re-matching here)."""
    if hook not in _parties_changed_hooks:
        _parties_changed_hooks.append(hook)


def parties_changed_notify(party_ids: Iterable[int], *, reason: str) -> None:
    ids = sorted(set(party_ids))
    if not ids:
        return
    for hook in list(_parties_changed_hooks):
        try:
            hook(ids, reason)
        except Exception:  # a failing listener must not undo or fail the committed import
            logger.exception("parties-changed hook %r failed", hook)


def merge_participant_register(participant: MergeParticipant) -> None:
    _merge_participants[participant.name] = participant


def merge_participants() -> list[MergeParticipant]:
    return list(_merge_participants.values())


_party_links: list[Callable[[Any, Any], list[tuple[str, str]]]] = []


def party_links_register(links: Callable[[Any, Any], list[tuple[str, str]]]) -> None:
    """``links(user, party) -> [(label, url)]``: pages of other apps about a party, shown on
    the party page for users who may open them."""
    if links not in _party_links:
        _party_links.append(links)


def party_links(user, party) -> list[tuple[str, str]]:
    return [link for provider in _party_links for link in provider(user, party)]


@dataclass(frozen=True)
class PartySection:
    """A part of the party 360 page that another app renders: ``template`` with ``context``
    (plus ``party``), and badges it puts on contact points, keyed ``("email" | "phone" |
    "address", contact point id)`` → ``[(label, tone)]``."""

    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    badges: Mapping[tuple[str, int], Sequence[tuple[str, str]]] = field(default_factory=dict)


_party_sections: list[Callable[[Any, Any], PartySection | None]] = []


def party_sections_register(section: Callable[[Any, Any], PartySection | None]) -> None:
    """``section(user, party) -> PartySection | None`` (None when the user may not see it)."""
    if section not in _party_sections:
        _party_sections.append(section)


def party_sections(user, party) -> list[PartySection]:
    return [s for provider in _party_sections if (s := provider(user, party)) is not None]


@dataclass(frozen=True)
class PartyApiPart:
    """A part of the API's party detail that another app provides: the key ``name``, placed
    after the key ``after`` (at the end if there is none); ``field()`` returns a fresh read-only
    DRF field reading the party (its schema is the API's documentation of the part);
    ``prefetch()`` returns the ``prefetch_related`` lookups it needs, so a page of parties
    costs no query per party."""

    name: str
    field: Callable[[], Any]
    prefetch: Callable[[], Sequence[Any]] = tuple
    after: str = ""


_party_api_parts: dict[str, PartyApiPart] = {}


def party_api_part_register(part: PartyApiPart) -> None:
    _party_api_parts[part.name] = part


def party_api_parts() -> list[PartyApiPart]:
    return list(_party_api_parts.values())


@dataclass(frozen=True)
class ErasureContext:
    """What an erasure is about, as the other apps see it: the erased parties (the customer and
    every party merged into it) and their source records' ids, read before their rows were
    emptied. ``redact_rows(queryset, text=[columns], documents=[JSON columns], strict=False,
    only=())`` rewrites every row of ``queryset`` whose columns hold one of the person's values
    and returns how many changed."""

    party_ids: Sequence[int]
    record_ids: Sequence[int]
    redact_rows: Callable[..., int]


@dataclass(frozen=True)
class ErasureParticipant:
    """Another app's part in an erasure (the right to be forgotten): ``erase(ctx)`` deletes or
    redacts its own rows about the erased parties, so no value of the person remains. It runs
    inside the erasure's transaction, with the parties locked: a failure undoes the whole
    erasure. Participants run in the order they registered."""

    name: str
    erase: Callable[[ErasureContext], None]


_erasure_participants: dict[str, ErasureParticipant] = {}


def erasure_participant_register(participant: ErasureParticipant) -> None:
    _erasure_participants[participant.name] = participant


def erasure_participants() -> list[ErasureParticipant]:
    return list(_erasure_participants.values())


# Change events (the outbox, ``parties/services/outbox.py``): after a transaction that wrote
# events commits, each hook runs once (the webhooks register their dispatch here).
_change_events_hooks: list[Callable[[], None]] = []


def change_events_committed_register(hook: Callable[[], None]) -> None:
    """``hook()`` is called after a commit that wrote change events (once per transaction)."""
    if hook not in _change_events_hooks:
        _change_events_hooks.append(hook)


def change_events_committed_notify() -> None:
    for hook in list(_change_events_hooks):
        try:
            hook()
        except Exception:  # the change is committed; the sequencer's beat picks the events up
            logger.exception("change-events hook %r failed", hook)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the party page's timeline: when, what (a sentence without values of the
    person's that an erasure would remove), who, and where to read more. ``engagement`` is set
    on touch points (the page shows their own columns)."""

    at: Any  # a datetime
    type: str  # the filter value it belongs to (an engagement type, "consent", "contact", "steward")
    label: str  # the badge: "Consent", "Merge", …
    text: str
    who: str = ""
    url: str = ""
    url_label: str = ""
    engagement: Any = None


@dataclass(frozen=True)
class TimelineQuery:
    """What a timeline source is asked for: the customer (``party_ids``: the party shown first,
    then every party merged into it), its own filter values among those chosen (empty: all of
    them). ``erased``: the customer was erased, so the entries must carry no free text at all."""

    party_ids: Sequence[int]
    types: Sequence[str] = ()
    erased: bool = False


@dataclass(frozen=True)
class TimelineSource:
    """Entries another app adds to the party page's timeline. ``filters``: its chips,
    ``[(value, label)]``; ``visible(user)``: whether the user may see them; ``counts(party_ids)``:
    entries per filter value; ``rows(query)``: a queryset of its entries' rows, unordered, whose
    field ``time_field`` is when each happened (indexed with the party, best);
    ``entries(ids, query)``: ``{id: TimelineEntry}`` for the ids of one page. The page orders
    and slices every source's rows in one database query (``UNION ALL``) and then asks each
    source for the entries of that page only."""

    name: str
    filters: Sequence[tuple[str, str]]
    visible: Callable[[Any], bool]
    counts: Callable[[Sequence[int]], Mapping[str, int]]
    rows: Callable[[TimelineQuery], Any]  # a QuerySet
    time_field: str
    entries: Callable[[Sequence[int], TimelineQuery], Mapping[int, TimelineEntry]]


_timeline_sources: dict[str, TimelineSource] = {}


def timeline_source_register(source: TimelineSource) -> None:
    _timeline_sources[source.name] = source


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())


# An import's preview (dry run) asks the matcher what it would do with the customers the file
# would create, inside the preview's transaction (rolled back afterwards, so the assessor may
# write what it needs: block keys, stored records). ``assess(party_ids)`` returns a dict:
# ``assessed`` (bool), and either ``auto_merge``, ``review``, ``alone`` (counts of those
# parties) or ``reason`` (why it could not say).
_import_preview_assessors: list[Callable[[Sequence[int]], dict[str, Any]]] = []


def import_preview_assessor_register(assess: Callable[[Sequence[int]], dict[str, Any]]) -> None:
    if assess not in _import_preview_assessors:
        _import_preview_assessors.append(assess)


def import_preview_assess(party_ids: Sequence[int]) -> dict[str, Any]:
    """What the registered matcher would do with ``party_ids`` (the first assessor's answer)."""
    if not _import_preview_assessors:
        return {"assessed": False, "reason": "no matcher is installed"}
    return _import_preview_assessors[0](party_ids)


@dataclass(frozen=True)
class PossibleDuplicate:
    """Another party that may be the same customer (matching's check on the party page and its
    contact-point form): score and band in words, and a pending suggestion naming both when
    there is one (its URL only for users who may open the merge queue)."""

    party_id: int
    display_name: str
    score: float
    band: str  # "auto-merge", "review" or "below review"
    url: str
    suggestion_id: int | None = None
    suggestion_url: str = ""


_duplicate_checks: list[Callable[..., Sequence[PossibleDuplicate] | None]] = []


def duplicate_check_register(check: Callable[..., Sequence[PossibleDuplicate] | None]) -> None:
    """``check(*, user, party_id, emails, phones, region)`` → the parties most like the party
    (with ``emails``/``phones`` added as a contact-point form would add them), or None when it
    cannot tell (no trained matcher). Matching registers its match-on-entry check here."""
    if check not in _duplicate_checks:
        _duplicate_checks.append(check)


def duplicate_check(
    *, user: Any, party_id: int, emails: Sequence[str] = (), phones: Sequence[str] = (), region: str = ""
) -> list[PossibleDuplicate] | None:
    """What the registered checks find (None: no check registered, or none could tell)."""
    found: list[PossibleDuplicate] | None = None
    for check in list(_duplicate_checks):
        hits = check(user=user, party_id=party_id, emails=emails, phones=phones, region=region)
        if hits is not None:
            found = [*(found or []), *hits]
    return found
