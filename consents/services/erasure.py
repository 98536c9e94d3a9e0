"""Erasure (the right to be forgotten).

``party_erase`` removes a customer's personal values from every place this product keeps them
— the party and the parties merged into it, their source records (raw payloads too), contact
points, identifiers, engagements, memberships, relationships, overrides, consents and their
ledger, the audit trail's snapshots, data-quality issues, rejected import lines, the admin's
log, and their rows in stored import files, drafts included (``erasure_files``), and what other
apps' erasure participants redact (``parties.extensions.erasure_participant_register``;
matching: its stored records, block keys, labels and suggestions) — in one transaction. Rows
that other records or statistics need stay, emptied.

Only the person: values found in rows that are not linked to the party (rejected lines, the
admin's log, other customers' files) count only if they identify someone by themselves and are
long enough to (an email address, a readable phone number, an identifier), and no other
customer holds them. The customer's own ledger entries lose their free text whole.

What is left of the person is a tombstone: keyed hashes (HMAC-SHA256) of their email
addresses, phone numbers, source keys, identifiers and name with birth date. When an import
or an edit later brings the same person back, ``tombstones_guard`` recognises them and marks
them "do not process" and "do not solicit" through the consent ledger, so they do not become
contactable again. The audit trail keeps an erasure entry with counts, never values.

The audit trail and the consent ledger are append-only; erasure is the one sanctioned
exception: it redacts values in their text, never the kind, time or actor of an entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from consents.models import (
    ActorKind,
    ConsentEvent,
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    ErasureTombstone,
    PrivacyPreference,
    TombstoneKind,
)
from consents.services.erasure_files import (
    files_erase,
    files_plan,
    long_enough,
    person_of,
    rejections_erase,
    shared_values,
)
from consents.services.ledger import Actor, consent_set, point_consent_set, preferences_set
from parties.extensions import ErasureContext, erasure_participants
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    DataQualityIssue,
    Engagement,
    EventKind,
    GoldenOverride,
    ImportJob,
    ImportRejection,
    Membership,
    Party,
    PartyEvent,
    PartyIdentification,
    PartyRelationship,
    SourceRecord,
    Validity,
)

logger = logging.getLogger(__name__)

ERASED = "[erased]"
CAPTURE_SOURCE = "Erasure request (right to be forgotten)"
GUARD_LABEL = "erasure tombstone"
# Party columns holding personal values; erasure empties them all.
PARTY_PERSONAL = [
    "salutation",
    "given_name",
    "middle_name",
    "family_name",
    "name_suffix",
    "gender",
    "marital_status",
    "income_band",
    "education_level",
    "occupation",
    "preferred_language",
    "organization_name",
    "registration_id",
    "industry",
    "website",
]
PARTY_NULLED = ["birth_date", "household_size", "employee_count"]
POINT_MODELS = {
    "email addresses": ContactPointEmail,
    "phone numbers": ContactPointPhone,
    "postal addresses": ContactPointAddress,
    "social profiles": ContactPointSocial,
}


EMPTIED_POINT_FIELDS = {
    ContactPointAddress: {"line1": "", "line2": "", "city": "", "region": "", "postal_code": ""},
    ContactPointPhone: {"extension": ""},
    ContactPointSocial: {"url": ""},
}


class ErasureRefused(ValidationError):
    """The erasure cannot be done (unknown party, already erased)."""


@dataclass
class ErasureResult:
    party_id: int
    party_ids: list[int]
    event_id: int
    tombstones: int
    counts: dict[str, int] = field(default_factory=dict)
    files_removed: list[int] = field(default_factory=list)
    files_rewritten: list[int] = field(default_factory=list)


# --- tombstones ----------------------------------------------------------------------------


def tombstone_digest(kind: str, value: str) -> str:
    key = (settings.C360_TOMBSTONE_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def _person_key(party: Party) -> str:
    if not (party.family_name and party.birth_date):
        return ""
    return f"{party.family_name}|{party.given_name}|{party.birth_date.isoformat()}"


def party_digests(party_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """Per party: the (kind, digest) pairs of what identifies it."""
    found: dict[int, set[tuple[str, str]]] = {pk: set() for pk in party_ids}

    def add(party_id: int, kind: str, value: str) -> None:
        if value:
            found[party_id].add((kind, tombstone_digest(kind, value)))

    for party in Party.objects.filter(pk__in=party_ids).only("family_name", "given_name", "birth_date"):
        add(party.pk, TombstoneKind.PERSON, _person_key(party))
    for party_id, value in ContactPointEmail.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "normalized"
    ):
        add(party_id, TombstoneKind.EMAIL, value)
    for party_id, value in ContactPointPhone.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "normalized"
    ):
        add(party_id, TombstoneKind.PHONE, value)
    for party_id, source, key in SourceRecord.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "source_system_id", "source_key"
    ):
        add(party_id, TombstoneKind.SOURCE_KEY, f"{source}:{key}")
    for party_id, kind, value in PartyIdentification.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "identifier_type", "normalized"
    ):
        add(party_id, TombstoneKind.IDENTIFIER, f"{kind}:{value}")
    return found


# --- what to redact ------------------------------------------------------------------------


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _clean(values: Iterable[str]) -> set[str]:
    return {v.strip() for v in values if v and len(v.strip()) >= 2}


def identifying_values(party_ids: Sequence[int]) -> set[str]:
    """The values that identify the customer by themselves, and are long enough to: email
    addresses, readable phone numbers (in every form stored), identifiers, source keys, member
    numbers, order numbers, their full name. They are what is looked for in rows not linked to the
    party (rejected lines, import jobs' errors, the admin's log): a name alone, a birth date, a
    city or an unreadable phone's digits ("77") would hit other customers."""
    values: set[str] = set()
    for given, family, display in Party.objects.filter(pk__in=party_ids).values_list(
        "given_name", "family_name", "display_name"
    ):
        values.update(n for n in (f"{given} {family}".strip(), display.strip()) if " " in n)
    # a value another customer holds too (a family's landline) identifies neither
    emails, phones = (
        model.objects.filter(party_id__in=party_ids).exclude(normalized__in=shared_values(model, party_ids))
        for model in (ContactPointEmail, ContactPointPhone)
    )
    for raw, normalized in emails.values_list("raw_value", "normalized"):
        values.update(v for v in (raw, normalized) if len(v.strip()) >= 6)
    for raw, normalized in phones.values_list("raw_value", "normalized"):
        digits = re.sub(r"\D", "", raw)
        if normalized.startswith("+") and len(normalized) >= 8:
            values.add(normalized)
        if len(digits) >= 7:
            values.update((raw, digits))
    for row in PartyIdentification.objects.filter(party_id__in=party_ids).values_list("value", "normalized"):
        values.update(v for v in row if long_enough(v))
    for model, column in (
        (SourceRecord, "source_key"),
        (Membership, "member_number"),
        (Engagement, "external_id"),
    ):
        values.update(
            v
            for v in model.objects.filter(party_id__in=party_ids).values_list(column, flat=True)
            if v and long_enough(v)
        )
    return _clean(values)


def personal_values(party_ids: Sequence[int]) -> set[str]:
    """Every personal value held about the parties: the identifying ones, and every other value
    their sources delivered (raw payloads, engagement attributes, demographics, job titles)."""
    values = set(identifying_values(party_ids))
    for row in Party.objects.filter(pk__in=party_ids).values_list(
        "display_name", "birth_date", *PARTY_PERSONAL
    ):
        values.update(str(v) for v in row if v)
    for model in POINT_MODELS.values():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if f.name in ("raw_value", "normalized", "line1", "line2", "url", "extension")
        ]
        for row in model.objects.filter(party_id__in=party_ids).values_list(*names):
            values.update(v for v in row if v)
    values.update(PartyIdentification.objects.filter(party_id__in=party_ids).values_list("value", flat=True))
    values.update(SourceRecord.objects.filter(party_id__in=party_ids).values_list("source_key", flat=True))
    values.update(Membership.objects.filter(party_id__in=party_ids).values_list("member_number", flat=True))
    values.update(Engagement.objects.filter(party_id__in=party_ids).values_list("external_id", flat=True))
    values.update(GoldenOverride.objects.filter(party_id__in=party_ids).values_list("value", flat=True))
    for payload in SourceRecord.objects.filter(party_id__in=party_ids).values_list("raw_payload", flat=True):
        values.update(s for s in _strings(payload) if len(s.strip()) >= 3)
    for attributes in Engagement.objects.filter(party_id__in=party_ids).values_list("attributes", flat=True):
        values.update(s for s in _strings(attributes) if len(s.strip()) >= 3)
    values.update(
        PartyRelationship.objects.filter(
            Q(from_party_id__in=party_ids) | Q(to_party_id__in=party_ids)
        ).values_list("role", flat=True)
    )
    return _clean(values)


class Redactor:
    """Replaces the erased values wherever they occur in a text or a JSON document, as whole
    words, ignoring case (stored JSON may also hold them \\u-escaped). ``identifying`` are the
    values looked for in rows not linked to the party (rejected lines, the admin's log), where
    a common value from a payload ("Berlin") must not touch other customers' rows."""

    def __init__(self, values: Iterable[str], identifying: Iterable[str] = ()):
        self.all = self._pattern(values)
        # identifying values are whole tokens: "schulz.77@example.org" is not in
        # "anna.schulz.77@example.org", nor "ZQ-7781" in "ZQ-7781-2"
        self.strict = self._pattern(identifying, before=r"(?<![\w.@+\-])", after=r"(?![\w@+\-]|[.\-]\w)")
        self.needles = sorted({v for v in identifying if len(v) >= 5})

    @staticmethod
    def _pattern(
        values: Iterable[str], before: str = r"(?<!\w)", after: str = r"(?!\w)"
    ) -> re.Pattern | None:
        forms = set()
        for value in values:
            forms.update((value, json.dumps(value)[1:-1]))
        if not forms:
            return None
        ordered = sorted(forms, key=len, reverse=True)
        body = "|".join(re.escape(v) for v in ordered)
        return re.compile(f"{before}(?:{body}){after}", re.IGNORECASE)

    def text(self, value: str, *, strict: bool = False) -> str:
        pattern = self.strict if strict else self.all
        return pattern.sub(ERASED, value) if pattern and value else value

    def json(self, value: Any, *, only: Sequence[str] = ()) -> Any:
        """Redact every string in the document (``only``: the values of those keys only)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if only:
                return {k: (self.json(v) if k in only else v) for k, v in value.items()}
            return {self.text(k): self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, only=only) for v in value]
        return value


def _redact_rows(
    queryset: models.QuerySet,
    redactor: Redactor,
    text: Sequence[str] = (),
    documents: Sequence[str] = (),
    *,
    strict: bool = False,
    only: Sequence[str] = (),
) -> int:
    """Rewrite the columns of every row where redaction changes something (with ``update``, so
    append-only models' ``save`` guard is not involved)."""
    changed = 0
    for row in queryset.values("pk", *text, *documents).iterator(chunk_size=500):
        new = {name: redactor.text(row[name], strict=strict) for name in text}
        new.update({name: redactor.json(row[name], only=only) for name in documents})
        new = {name: value for name, value in new.items() if value != row[name]}
        if new:
            queryset.model.objects.filter(pk=row["pk"]).update(**new)
            changed += 1
    return changed


# --- the erasure ---------------------------------------------------------------------------


def _cluster(party_id: int) -> tuple[Party, list[int]]:
    """The customer a party id stands for: its survivor, with every party merged into it."""
    from consents.services.privacy import party_and_merged_ids
    from parties.selectors import party_resolve

    try:
        party = party_resolve(pk=party_id)
    except Party.DoesNotExist:
        raise ErasureRefused({"party": f"there is no party {party_id}"}) from None
    return party, party_and_merged_ids(party.pk)


def _not_before(row):
    """Now, or the row's own capture time if a clock ahead put it in the next minutes: the
    erasure's opt-out must never count as older than the decision it replaces."""
    return max(timezone.now(), row.captured_at)


def _opt_out_everything(ids: Sequence[int], actor: Actor) -> None:
    active = {"party_id__in": ids, "purpose__is_active": True}
    for row in ContactPointTypeConsent.objects.filter(**active).select_related("purpose"):
        if row.status != ConsentStatus.OPT_OUT:
            consent_set(
                party_id=row.party_id,
                channel=row.channel,
                purpose=row.purpose.code,
                status=ConsentStatus.OPT_OUT,
                capture_source=CAPTURE_SOURCE,
                actor=actor,
                follow_merge=False,
                captured_at=_not_before(row),
            )
    for row in ContactPointConsent.objects.filter(**active).select_related("purpose"):
        if row.status != ConsentStatus.OPT_OUT:
            point_consent_set(
                party_id=row.party_id,
                point_kind=row.point_kind,
                point_id=row.point_id,
                purpose=row.purpose.code,
                status=ConsentStatus.OPT_OUT,
                capture_source=CAPTURE_SOURCE,
                actor=actor,
                follow_merge=False,
                captured_at=_not_before(row),
            )
    for party_id in ids:
        preferences_set(
            party_id=party_id,
            actor=actor,
            capture_source=CAPTURE_SOURCE,
            follow_merge=False,
            changes={
                "do_not_process": True,
                "do_not_profile": True,
                "do_not_track": True,
                "do_not_solicit": True,
                "preferred_channel": "",
                "preferred_language": "",
                "contact_frequency": "",
                "interests": [],
            },
        )


def _empty_rows(ids: Sequence[int], now) -> dict[str, int]:
    counts = {}
    parties = Party.objects.filter(pk__in=ids)
    counts["parties"] = parties.update(
        erased_at=now,
        display_name="Erased customer",
        **dict.fromkeys(PARTY_PERSONAL, ""),
        **dict.fromkeys(PARTY_NULLED),
    )
    records = SourceRecord.objects.filter(party_id__in=ids)
    record_ids = list(records.values_list("pk", flat=True))
    counts["source_records"] = len(record_ids)
    for pk in record_ids:  # source keys are unique per system: each gets its own placeholder
        SourceRecord.objects.filter(pk=pk).update(
            source_key=f"erased-{pk}", raw_payload={}, standardized={}, content_hash=""
        )
    DataQualityIssue.objects.filter(source_record_id__in=record_ids).update(value=ERASED)
    erased_point = {
        "is_active": False,
        "is_primary": False,
        "validity": Validity.INVALID,
        "validity_reason": "erased on request",
    }
    for name, model in POINT_MODELS.items():
        points = model.objects.filter(party_id__in=ids)
        counts[name] = points.count()
        extra = EMPTIED_POINT_FIELDS.get(model, {})
        for pk in points.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(
                raw_value=f"erased-{pk}", normalized=f"erased-{pk}", **erased_point, **extra
            )
    identifiers = PartyIdentification.objects.filter(party_id__in=ids)
    counts["identifiers"] = identifiers.count()
    for pk in identifiers.values_list("pk", flat=True):
        PartyIdentification.objects.filter(pk=pk).update(value=f"erased-{pk}", normalized=f"erased-{pk}")
    counts["engagements"] = Engagement.objects.filter(party_id__in=ids).update(external_id="", attributes={})
    counts["memberships"] = Membership.objects.filter(party_id__in=ids).update(member_number="")
    counts["relationships"] = PartyRelationship.objects.filter(
        Q(from_party_id__in=ids) | Q(to_party_id__in=ids)
    ).delete()[0]
    counts["overrides"] = GoldenOverride.objects.filter(party_id__in=ids).delete()[0]
    return counts


def _participants_erase(ids: Sequence[int], record_ids: Sequence[int], redactor: Redactor) -> None:
    """The other apps' rows (matching: the matcher's records, block keys, labels and
    suggestions), through the erasure participants they registered."""

    def redact_rows(queryset: models.QuerySet, **columns) -> int:
        return _redact_rows(queryset, redactor, **columns)

    ctx = ErasureContext(party_ids=list(ids), record_ids=list(record_ids), redact_rows=redact_rows)
    for participant in erasure_participants():
        participant.erase(ctx)


def _mentioning(model, columns: Sequence[str], needles: Sequence[str]) -> models.QuerySet:
    """Rows of ``model`` where any of the columns contains any of the needles."""
    condition = Q()
    for needle in needles:
        for column in columns:
            condition |= Q(**{f"{column}__icontains": needle})
    return model.objects.filter(condition)


def _unlinked_rows(ids: Sequence[int], redactor: Redactor) -> None:
    """Rows that hold values without a link to the party: rejected import lines, import jobs'
    errors and the admin's log (found by value, and by object for the admin's log)."""
    party_type = ContentType.objects.get_for_model(Party)
    LogEntry.objects.filter(content_type=party_type, object_id__in=[str(pk) for pk in ids]).update(
        object_repr=ERASED, change_message=""
    )
    if not redactor.needles:
        return
    for model, columns in (
        (ImportRejection, ["value", "reason"]),
        (ImportJob, ["error"]),
        (LogEntry, ["object_repr", "change_message"]),
    ):
        _redact_rows(_mentioning(model, columns, redactor.needles), redactor, text=columns, strict=True)


# The ledger's free text: where consent was captured, the evidence, the interests and language
# the customer gave. Enumerated values ("email", "opt_out") and times stay: they replay.
LEDGER_FREE_TEXT = ("capture_source", "preferred_language", "interests")


def _free_text_erased(value: Any) -> Any:
    if isinstance(value, list):
        return [ERASED] if value else value
    if isinstance(value, str):
        return value if value in ("", ERASED, CAPTURE_SOURCE) else ERASED
    return value


def _state_erased(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    return {k: (_free_text_erased(v) if k in LEDGER_FREE_TEXT else v) for k, v in state.items()}


def _snapshot_free_text_erased(document: Any) -> Any:
    """The consent states a merge keeps in the audit trail (to undo it), at any depth."""
    if isinstance(document, dict):
        return {
            k: (
                _free_text_erased(v)
                if k in (*LEDGER_FREE_TEXT, "evidence")
                else _snapshot_free_text_erased(v)
            )
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_snapshot_free_text_erased(v) for v in document]
    return document


def _ledger_free_text_erase(ids: Sequence[int]) -> int:
    """Every free text of the customer's ledger entries and consent rows goes whole, not only
    the values known to be theirs ("met at the fair, her poodle Fluffy" names nothing we hold).
    The state rows and the ledger's last entries are redacted alike, so the replay still holds."""
    changed = 0
    events = ConsentEvent.objects.filter(party_id__in=ids)
    for row in events.values("pk", "capture_source", "evidence", "previous", "new").iterator(chunk_size=500):
        new = {
            "capture_source": _free_text_erased(row["capture_source"]),
            "evidence": ERASED if row["evidence"] else "",
            "previous": _state_erased(row["previous"]),
            "new": _state_erased(row["new"]),
        }
        new = {name: value for name, value in new.items() if value != row[name]}
        if new:
            changed += ConsentEvent.objects.filter(pk=row["pk"]).update(**new)
    for model in (ContactPointTypeConsent, ContactPointConsent):
        for pk, text in model.objects.filter(party_id__in=ids).values_list("pk", "capture_source"):
            if _free_text_erased(text) != text:
                model.objects.filter(pk=pk).update(capture_source=_free_text_erased(text))
    for pk, interests, language in PrivacyPreference.objects.filter(party_id__in=ids).values_list(
        "pk", "interests", "preferred_language"
    ):
        PrivacyPreference.objects.filter(pk=pk).update(
            interests=_free_text_erased(interests), preferred_language=_free_text_erased(language)
        )
    events = PartyEvent.objects.filter(pk__in=PartyEvent.objects.filter(parties__in=ids).values("pk"))
    for pk, changes in events.values_list("pk", "changes"):
        if (erased := _snapshot_free_text_erased(changes)) != changes:
            PartyEvent.objects.filter(pk=pk).update(changes=erased)
    return changed


@transaction.atomic
def party_erase(*, party_id: int, actor=None, reason: str = "") -> ErasureResult:
    """Erase the customer the party stands for (with every party merged into it)."""
    party, ids = _cluster(party_id)
    # In primary-key order, FOR NO KEY UPDATE: the lock order of parties_lock's docstring (not
    # parties_lock itself, which refuses a party erased before: erasing again completes it).
    locking = Party.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update)
    locked = {p.pk: p for p in locking.filter(pk__in=ids).order_by("pk")}
    party = locked[party.pk]
    if party.erased_at:
        raise ErasureRefused({"party": f"party {party.pk} was already erased on {party.erased_at:%Y-%m-%d}"})
    now = timezone.now()
    ledger_actor = Actor.of_user(actor) if actor else Actor(kind=ActorKind.SYSTEM, label="erasure")
    redactor = Redactor(personal_values(ids), identifying_values(ids))
    digests = set().union(*party_digests(ids).values())
    record_ids = list(SourceRecord.objects.filter(party_id__in=ids).values_list("pk", flat=True))
    person = person_of(ids)  # read before their rows are emptied
    files = files_plan(person)

    _opt_out_everything(ids, ledger_actor)
    counts = _empty_rows(ids, now)
    _participants_erase(ids, record_ids, redactor)
    _ledger_free_text_erase(ids)
    events = PartyEvent.objects.filter(pk__in=PartyEvent.objects.filter(parties__in=ids).values("pk"))
    _redact_rows(events, redactor, text=["reason"], documents=["before", "after", "changes"])
    rejections_erase(files, redactor.text)
    _unlinked_rows(ids, redactor)

    event = PartyEvent.objects.create(
        kind=EventKind.ERASURE,
        party_id=party.pk,
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        reason=redactor.text(reason.strip())[:500] or "erasure request",
        changes={"erased_parties": ids, "counts": counts},
    )
    event.parties.set(ids)
    ErasureTombstone.objects.bulk_create(
        ErasureTombstone(kind=kind, digest=digest, erasure_event_id=event.pk, erased_at=now)
        for kind, digest in sorted(digests)
    )
    # Last, and inside the transaction: should it fail after a file changed, the customer's
    # rows are gone from the file while the database still holds them, and erasing again
    # finishes; the other way round, a crash could keep them in a file after the erasure.
    removed, rewritten = files_erase(files, person)
    counts["import_files"] = len(removed)
    counts["import_files_rewritten"] = len(rewritten)
    PartyEvent.objects.filter(pk=event.pk).update(changes={"erased_parties": ids, "counts": counts})
    return ErasureResult(
        party_id=party.pk,
        party_ids=ids,
        event_id=event.pk,
        tombstones=len(digests),
        counts=counts,
        files_removed=removed,
        files_rewritten=rewritten,
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
    )


# --- the guard against the erased coming back ----------------------------------------------


def tombstone_erased_on(*, channel: str, value: str, region: str = "US"):
    """When an erased customer had this email address or phone number: the erasure's time
    (the value itself is not kept, its hash is compared), else None."""
    from parties.services import standardize as std

    if channel == "email":
        kind, normalized = TombstoneKind.EMAIL, std.email_normalize(value).value
    elif channel in ("sms", "phone"):
        kind, normalized = TombstoneKind.PHONE, std.phone_normalize(value, region).normalized
    else:
        return None
    if not normalized:
        return None
    found = ErasureTombstone.objects.filter(kind=kind, digest=tombstone_digest(kind, normalized)).first()
    return found.erased_at if found else None


def tombstones_guard(party_ids: Sequence[int], reason: str = "") -> list[int]:
    """Mark parties that match an erasure tombstone "do not process" and "do not solicit"
    (through the ledger); returns their ids. Registered for every parties-changed notice."""
    candidates = list(
        Party.objects.filter(pk__in=party_ids, erased_at__isnull=True, merged_into__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not candidates or not ErasureTombstone.objects.exists():
        return []
    per_party = party_digests(candidates)
    wanted = {digest for pairs in per_party.values() for _, digest in pairs}
    known = {}
    for digest, kind, erased_at in ErasureTombstone.objects.filter(digest__in=wanted).values_list(
        "digest", "kind", "erased_at"
    ):
        known[digest] = (kind, erased_at)
    flagged = []
    for party_id, pairs in per_party.items():
        hits = sorted({known[d][0] for _, d in pairs if d in known})
        if not hits:
            continue
        when = min(known[d][1] for _, d in pairs if d in known)
        what = ", ".join(TombstoneKind(k).label.lower() for k in hits)
        preferences_set(
            party_id=party_id,
            actor=Actor(kind=ActorKind.SYSTEM, label=GUARD_LABEL),
            capture_source=CAPTURE_SOURCE,
            changes={"do_not_process": True, "do_not_solicit": True},
            evidence=f"matches a customer erased on {when:%Y-%m-%d} ({what})",
        )
        flagged.append(party_id)
    return flagged


def tombstones_guard_hook(party_ids: Sequence[int], reason: str) -> None:
    if reason in ("import", "contact point edited", "split", "unmerge"):
        tombstones_guard(party_ids, reason)
