"""``party_erase``: the erasure itself, its steps in order, and the summary shown to the user.

The order, and why:

1. Unlocked, outside any transaction: which parties the customer is (``_cluster``), what
   identifies them in a file (``files.person_of``) and what to do with every stored import file
   (``files.files_plan``) — reading the files is the slow part, and no party is held meanwhile.
2. In one durable transaction, after locking the parties (``parties_lock``, the one lock
   order): check that what step 1 read still holds — the same parties (no merge into the
   customer, no merge of them elsewhere), the same person (no record, address or identifier
   of theirs added or changed), the same jobs' files (``files.files_state``: no file added,
   removed or rewritten, no mapping changed). If anything changed, the transaction is left
   and step 1 runs again (at most ``ATTEMPTS`` times, then the erasure is refused). Else every
   row is erased, the erasure's audit entry and tombstones are written, and the jobs' rows
   are brought in line with their files (``files.files_record``).
   What is still to be done to the files is written there too, as pending rows
   (``files.files_pending_record``): they commit with the erasure or not at all.
3. After commit (``transaction.on_commit``): the files are removed or rewritten
   (``files.files_apply``), each in a short transaction holding its pending row and its job's
   row, from the file as it is then, the row deleted with the change. A rolled-back erasure
   leaves every file as it was and no pending row. A process that dies between the commit and
   the file changes, or a storage that fails, leaves the rows pending: the retry
   (``files.files_pending_apply``, beat every minute, ``manage.py erasure_files``) does them,
   and the summary, the erase page and the admin show them until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from consents.models import ActorKind
from consents.services.erasure.audit import audit_redact, erasure_event_counts, erasure_event_record
from consents.services.erasure.base import ErasureRefused
from consents.services.erasure.elsewhere import participants_erase, unlinked_rows_erase
from consents.services.erasure.files import (
    FilePlan,
    Person,
    files_apply,
    files_pending_count,
    files_pending_record,
    files_plan,
    files_record,
    files_state,
    person_of,
    rejections_erase,
)
from consents.services.erasure.ledger import consents_opt_out, ledger_free_text_erase
from consents.services.erasure.rows import party_rows_empty
from consents.services.erasure.tombstones import party_digests, tombstones_record
from consents.services.erasure.values import Redactor, identifying_values, personal_values
from consents.services.ledger import Actor
from parties.models import Party, SourceRecord
from parties.services.merge import MergeRefused, parties_lock

ATTEMPTS = 3


@dataclass
class ErasureResult:
    party_id: int
    party_ids: list[int]
    event_id: int
    tombstones: int
    counts: dict[str, int] = field(default_factory=dict)
    files_removed: list[int] = field(default_factory=list)
    files_rewritten: list[int] = field(default_factory=list)
    files_pending: int = 0  # files still to change after the erasure's own attempt (retried)


@dataclass
class _Prepared:
    """What the erasure read before taking its locks (step 1)."""

    party_id: int
    ids: list[int]
    erased: set[int]  # parties of the cluster erased before (never un-erased: read unlocked)
    person: Person
    state: dict[str, Any]
    files: list[FilePlan]


class _Changed(Exception):
    """What was read before the locks no longer holds: read again."""


def _already_erased(party: Party) -> ErasureRefused:
    return ErasureRefused({"party": f"party {party.pk} was already erased on {party.erased_at:%Y-%m-%d}"})


def _cluster(party_id: int) -> tuple[Party, list[int]]:
    """The customer a party id stands for: its survivor, with every party merged into it."""
    from consents.services.privacy import party_and_merged_ids
    from parties.selectors import party_resolve

    try:
        party = party_resolve(pk=party_id)
    except Party.DoesNotExist:
        raise ErasureRefused({"party": f"there is no party {party_id}"}) from None
    return party, party_and_merged_ids(party.pk)


def _prepare(party_id: int) -> _Prepared:
    party, ids = _cluster(party_id)
    if party.erased_at:
        raise _already_erased(party)
    erased = set(Party.objects.filter(pk__in=ids, erased_at__isnull=False).values_list("pk", flat=True))
    person = person_of(ids)
    state = files_state()  # before the files are read: a change while they are read shows
    return _Prepared(
        party_id=party.pk, ids=ids, erased=erased, person=person, state=state, files=files_plan(person)
    )


def _lock(prepared: _Prepared) -> None:
    """Lock the parties, then check that what was read before still holds. A party of the
    cluster erased before is not locked (``parties_lock`` refuses it, and nothing else may
    change it either): erasing the cluster again completes it."""
    try:
        parties_lock([pk for pk in prepared.ids if pk not in prepared.erased])
    except MergeRefused:
        party = Party.objects.filter(pk=prepared.party_id).first()
        if party is not None and party.erased_at:
            raise _already_erased(party) from None  # erased meanwhile by someone else
        raise _Changed from None  # one of them was merged away and removed meanwhile
    party, ids = _cluster(prepared.party_id)
    if party.pk != prepared.party_id or ids != prepared.ids:
        raise _Changed
    if person_of(ids) != prepared.person or files_state() != prepared.state:
        raise _Changed


def _erase(prepared: _Prepared, *, actor, reason: str) -> ErasureResult:
    _lock(prepared)
    ids, files = prepared.ids, prepared.files
    now = timezone.now()
    ledger_actor = Actor.of_user(actor) if actor else Actor(kind=ActorKind.SYSTEM, label="erasure")
    redactor = Redactor(personal_values(ids), identifying_values(ids))
    digests = set().union(*party_digests(ids).values())
    record_ids = list(SourceRecord.objects.filter(party_id__in=ids).values_list("pk", flat=True))

    consents_opt_out(ids, ledger_actor)
    counts = party_rows_empty(ids, now)
    participants_erase(ids, record_ids, redactor)
    ledger_free_text_erase(ids)
    audit_redact(ids, redactor)
    rejections_erase(files, redactor.text)
    unlinked_rows_erase(ids, redactor)

    event = erasure_event_record(
        party_id=prepared.party_id,
        ids=ids,
        actor=actor,
        reason=redactor.text(reason.strip())[:500] or "erasure request",
        counts=counts,
    )
    tombstones_record(digests, event_id=event.pk, erased_at=now)
    removed, rewritten = files_record(files, prepared.person)
    counts["import_files"] = len(removed)
    counts["import_files_rewritten"] = len(rewritten)
    pending = files_pending_record(files, event_id=event.pk)
    erasure_event_counts(event, ids=ids, counts=counts)
    transaction.on_commit(partial(files_apply, pending))
    return ErasureResult(
        party_id=prepared.party_id,
        party_ids=ids,
        event_id=event.pk,
        tombstones=len(digests),
        counts=counts,
        files_removed=removed,
        files_rewritten=rewritten,
    )


def party_erase(*, party_id: int, actor=None, reason: str = "") -> ErasureResult:
    """Erase the customer the party stands for (with every party merged into it): every
    personal value goes from every table, and after commit from every stored import file.

    Durable: it commits on its own and must never run inside a caller's transaction (a caller
    rolling back after it would leave files changed for an erasure that never happened, and
    the party locks would be held for as long as the caller runs). Raises ``ErasureRefused``
    for an unknown or already erased party, and when the customer's data kept changing while
    the erasure was being prepared."""
    for _ in range(ATTEMPTS):
        prepared = _prepare(party_id)
        try:
            with transaction.atomic(durable=True):
                result = _erase(prepared, actor=actor, reason=reason)
        except _Changed:
            continue
        # the files were changed on commit; what failed stays pending (retried)
        result.files_pending = files_pending_count(result.event_id)
        return result
    raise ErasureRefused(
        {"party": "the customer's data changed while the erasure was being prepared; try again"}
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n != 1 else f"1 {what.removesuffix('es') if what.endswith('sses') else what[:-1]}"


def erasure_summary(result: ErasureResult) -> str:
    counts = result.counts
    merged = len(result.party_ids) - 1
    also = {0: "", 1: " and the party merged into it"}.get(
        merged, f" and the {merged} parties merged into it"
    )
    emptied = ", ".join(
        _count(counts[k], k.replace("_", " "))
        for k in ("source_records", "email addresses", "phone numbers", "postal addresses", "engagements")
    )
    return (
        f"Erased party {result.party_id}{also}: {emptied} emptied; "
        f"{_count(len(result.files_removed), 'stored import files')} removed, "
        f"{len(result.files_rewritten)} rewritten without the customer's rows; "
        f"{_count(result.tombstones, 'hashed identifiers')} kept so that the customer is not contacted "
        "again if imported again."
        + (
            " Still to change (the file step failed): "
            f"{_count(result.files_pending, 'stored import files')}, retried every minute "
            "(see Pending file erasures in the admin)."
            if result.files_pending
            else ""
        )
    )
