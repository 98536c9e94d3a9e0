"""Erasure (the right to be forgotten).

``party_erase`` removes a customer's personal values from every place this product keeps them
— the party and the parties merged into it, their source records (raw payloads too), contact
points, identifiers, engagements, memberships, relationships, overrides, consents and their
ledger, the audit trail's snapshots, the matcher's stored records, block keys, labels and
suggestions, data-quality issues, rejected import lines, the admin's log, and retained import
files — in one transaction. Rows that other records or statistics need stay, emptied.

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
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
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
from consents.services.ledger import Actor, consent_set, point_consent_set, preferences_set
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
    ImportStatus,
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
PARTY_PERSONAL = ["salutation", "given_name", "middle_name", "family_name", "name_suffix", "gender",
                  "marital_status", "income_band", "education_level", "occupation", "preferred_language",
                  "organization_name", "registration_id", "industry", "website"]
PARTY_NULLED = ["birth_date", "household_size", "employee_count"]
POINT_MODELS = {"email addresses": ContactPointEmail, "phone numbers": ContactPointPhone,
                "postal addresses": ContactPointAddress, "social profiles": ContactPointSocial}


EMPTIED_POINT_FIELDS = {
    ContactPointAddress: {"line1": "", "line2": "", "city": "", "region": "", "postal_code": ""},
    ContactPointPhone: {"extension": ""}, ContactPointSocial: {"url": ""}}


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
            "party_id", "normalized"):
        add(party_id, TombstoneKind.EMAIL, value)
    for party_id, value in ContactPointPhone.objects.filter(party_id__in=party_ids).values_list(
            "party_id", "normalized"):
        add(party_id, TombstoneKind.PHONE, value)
    for party_id, source, key in SourceRecord.objects.filter(party_id__in=party_ids).values_list(
            "party_id", "source_system_id", "source_key"):
        add(party_id, TombstoneKind.SOURCE_KEY, f"{source}:{key}")
    for party_id, kind, value in PartyIdentification.objects.filter(party_id__in=party_ids).values_list(
            "party_id", "identifier_type", "normalized"):
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
    """The values that identify the customer: names, birth date, contact points, identifiers,
    source keys, member numbers, overrides — in every form they are stored in."""
    values: set[str] = set()
    for row in Party.objects.filter(pk__in=party_ids).values_list(
            "display_name", "given_name", "middle_name", "family_name", "organization_name",
            "registration_id", "website", "birth_date"):
        values.update(str(v) for v in row if v)
    for model in POINT_MODELS.values():
        names = [f.name for f in model._meta.concrete_fields
                 if f.name in ("raw_value", "normalized", "line1", "line2", "url", "extension")]
        for row in model.objects.filter(party_id__in=party_ids).values_list(*names):
            values.update(v for v in row if v)
    phones = ContactPointPhone.objects.filter(party_id__in=party_ids)
    for phone, raw in phones.values_list("normalized", "raw_value"):
        values.update(d for d in (re.sub(r"\D", "", phone), re.sub(r"\D", "", raw)) if len(d) >= 6)
    for row in PartyIdentification.objects.filter(party_id__in=party_ids).values_list("value", "normalized"):
        values.update(row)
    values.update(SourceRecord.objects.filter(party_id__in=party_ids).values_list("source_key", flat=True))
    values.update(Membership.objects.filter(party_id__in=party_ids).values_list("member_number", flat=True))
    values.update(Engagement.objects.filter(party_id__in=party_ids).values_list("external_id", flat=True))
    values.update(GoldenOverride.objects.filter(party_id__in=party_ids).values_list("value", flat=True))
    return _clean(values)


def personal_values(party_ids: Sequence[int]) -> set[str]:
    """Every personal value held about the parties: the identifying ones, and every other value
    their sources delivered (raw payloads, engagement attributes, demographics, job titles)."""
    values = set(identifying_values(party_ids))
    for row in Party.objects.filter(pk__in=party_ids).values_list(*PARTY_PERSONAL):
        values.update(v for v in row if v)
    for payload in SourceRecord.objects.filter(party_id__in=party_ids).values_list("raw_payload", flat=True):
        values.update(s for s in _strings(payload) if len(s.strip()) >= 3)
    for attributes in Engagement.objects.filter(party_id__in=party_ids).values_list("attributes", flat=True):
        values.update(s for s in _strings(attributes) if len(s.strip()) >= 3)
    values.update(PartyRelationship.objects.filter(
        Q(from_party_id__in=party_ids) | Q(to_party_id__in=party_ids)).values_list("role", flat=True))
    return _clean(values)


class Redactor:
    """Replaces the erased values wherever they occur in a text or a JSON document, as whole
    words, ignoring case (stored JSON may also hold them \\u-escaped). ``identifying`` are the
    values looked for in rows not linked to the party (rejected lines, the admin's log), where
    a common value from a payload ("Berlin") must not touch other customers' rows."""

    def __init__(self, values: Iterable[str], identifying: Iterable[str] = ()):
        self.all = self._pattern(values)
        self.strict = self._pattern(identifying)
        self.needles = sorted({v for v in identifying if len(v) >= 5})

    @staticmethod
    def _pattern(values: Iterable[str]) -> re.Pattern | None:
        forms = set()
        for value in values:
            forms.update((value, json.dumps(value)[1:-1]))
        if not forms:
            return None
        ordered = sorted(forms, key=len, reverse=True)
        return re.compile("(?<!\\w)(?:" + "|".join(re.escape(v) for v in ordered) + ")(?!\\w)", re.IGNORECASE)

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


def _redact_rows(queryset: models.QuerySet, redactor: Redactor, text: Sequence[str] = (),
                 documents: Sequence[str] = (), *, strict: bool = False, only: Sequence[str] = ()) -> int:
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


def _opt_out_everything(ids: Sequence[int], actor: Actor) -> None:
    active = {"party_id__in": ids, "purpose__is_active": True}
    for row in ContactPointTypeConsent.objects.filter(**active).select_related("purpose"):
        if row.status != ConsentStatus.OPT_OUT:
            consent_set(party_id=row.party_id, channel=row.channel, purpose=row.purpose.code,
                        status=ConsentStatus.OPT_OUT, capture_source=CAPTURE_SOURCE, actor=actor,
                        follow_merge=False)
    for row in ContactPointConsent.objects.filter(**active).select_related("purpose"):
        if row.status != ConsentStatus.OPT_OUT:
            point_consent_set(party_id=row.party_id, point_kind=row.point_kind, point_id=row.point_id,
                              purpose=row.purpose.code, status=ConsentStatus.OPT_OUT,
                              capture_source=CAPTURE_SOURCE, actor=actor, follow_merge=False)
    for party_id in ids:
        preferences_set(party_id=party_id, actor=actor, capture_source=CAPTURE_SOURCE, follow_merge=False,
                        changes={"do_not_process": True, "do_not_profile": True, "do_not_track": True,
                                 "do_not_solicit": True, "preferred_channel": "", "preferred_language": "",
                                 "contact_frequency": "", "interests": []})


def _empty_rows(ids: Sequence[int], now) -> dict[str, int]:
    counts = {}
    parties = Party.objects.filter(pk__in=ids)
    counts["parties"] = parties.update(
        erased_at=now, display_name="Erased customer", **dict.fromkeys(PARTY_PERSONAL, ""),
        **dict.fromkeys(PARTY_NULLED))
    records = SourceRecord.objects.filter(party_id__in=ids)
    record_ids = list(records.values_list("pk", flat=True))
    counts["source_records"] = len(record_ids)
    for pk in record_ids:  # source keys are unique per system: each gets its own placeholder
        SourceRecord.objects.filter(pk=pk).update(
            source_key=f"erased-{pk}", raw_payload={}, standardized={}, content_hash="")
    DataQualityIssue.objects.filter(source_record_id__in=record_ids).update(value=ERASED)
    erased_point = {"is_active": False, "is_primary": False, "validity": Validity.INVALID,
                    "validity_reason": "erased on request"}
    for name, model in POINT_MODELS.items():
        points = model.objects.filter(party_id__in=ids)
        counts[name] = points.count()
        extra = EMPTIED_POINT_FIELDS.get(model, {})
        for pk in points.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(raw_value=f"erased-{pk}", normalized=f"erased-{pk}",
                                               **erased_point, **extra)
    identifiers = PartyIdentification.objects.filter(party_id__in=ids)
    counts["identifiers"] = identifiers.count()
    for pk in identifiers.values_list("pk", flat=True):
        PartyIdentification.objects.filter(pk=pk).update(value=f"erased-{pk}", normalized=f"erased-{pk}")
    counts["engagements"] = Engagement.objects.filter(party_id__in=ids).update(external_id="", attributes={})
    counts["memberships"] = Membership.objects.filter(party_id__in=ids).update(member_number="")
    counts["relationships"] = PartyRelationship.objects.filter(
        Q(from_party_id__in=ids) | Q(to_party_id__in=ids)).delete()[0]
    counts["overrides"] = GoldenOverride.objects.filter(party_id__in=ids).delete()[0]
    return counts


def _matcher_forget(ids: Sequence[int], record_ids: Sequence[int], redactor: Redactor) -> None:
    from matching.models import (
        BlockKey,
        MatchRecord,
        MatchSuggestion,
        SuggestionStatus,
        TrainingLabel,
        TrainingPair,
    )

    MatchRecord.objects.filter(party_id__in=ids).delete()
    BlockKey.objects.filter(party_id__in=ids).delete()
    TrainingLabel.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)).delete()
    TrainingPair.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)).delete()
    suggestions = MatchSuggestion.objects.filter(members__party_id__in=ids).distinct()
    MatchSuggestion.objects.filter(pk__in=suggestions.filter(status=SuggestionStatus.PENDING).values("pk")).update(
        status=SuggestionStatus.CLOSED, decided_at=timezone.now(), claimed_by=None, claimed_at=None)
    _redact_rows(MatchSuggestion.objects.filter(pk__in=suggestions.values("pk")), redactor,
                 text=["search_text"], documents=["evidence", "risk_reasons"])


def _mentioning(model, columns: Sequence[str], needles: Sequence[str]) -> models.QuerySet:
    """Rows of ``model`` where any of the columns contains any of the needles."""
    condition = Q()
    for needle in needles:
        for column in columns:
            condition |= Q(**{f"{column}__icontains": needle})
    return model.objects.filter(condition)


def _unlinked_rows(ids: Sequence[int], redactor: Redactor) -> None:
    """Rows that hold values without a link to the party: rejected import lines and the
    admin's log (found by value, and by object for the admin's log)."""
    party_type = ContentType.objects.get_for_model(Party)
    LogEntry.objects.filter(content_type=party_type, object_id__in=[str(pk) for pk in ids]).update(
        object_repr=ERASED, change_message="")
    if not redactor.needles:
        return
    for model, columns in ((ImportRejection, ["value", "reason"]),
                           (LogEntry, ["object_repr", "change_message"])):
        _redact_rows(_mentioning(model, columns, redactor.needles), redactor, text=columns, strict=True)


def _files_holding(redactor: Redactor, job_ids: set[int]) -> list[ImportJob]:
    """Finished import jobs whose retained file holds any of the values: the jobs named, and
    any other whose rows mention one (files are read with the import readers)."""
    from parties.services.imports.jobs import job_file_info
    from parties.services.imports.readers import rows_iter

    found = []
    finished = ImportJob.objects.filter(status__in=[ImportStatus.SUCCEEDED, ImportStatus.FAILED,
                                                    ImportStatus.CANCELLED]).exclude(file="")
    for job in finished.order_by("pk"):
        path = Path(settings.MEDIA_ROOT) / job.file.name
        if not path.exists():
            continue
        if job.pk in job_ids:
            found.append(job)
            continue
        try:
            for row in rows_iter(path, job_file_info(job)):
                if any(redactor.text(v, strict=True) != v for v in row.values.values() if v):
                    found.append(job)
                    break
        except Exception:  # an unreadable file cannot be checked: remove it rather than keep it
            logger.exception("import #%s: file could not be read for an erasure", job.pk)
            found.append(job)
    return found


def _files_remove(jobs: Sequence[ImportJob]) -> list[int]:
    removed = []
    for job in jobs:
        path = Path(settings.MEDIA_ROOT) / job.file.name
        path.unlink(missing_ok=True)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        removed.append(job.pk)
    return removed


@transaction.atomic
def party_erase(*, party_id: int, actor=None, reason: str = "") -> ErasureResult:
    """Erase the customer the party stands for (with every party merged into it)."""
    party, ids = _cluster(party_id)
    locked = {p.pk: p for p in Party.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    party = locked[party.pk]
    if party.erased_at:
        raise ErasureRefused({"party": f"party {party.pk} was already erased on {party.erased_at:%Y-%m-%d}"})
    now = timezone.now()
    ledger_actor = Actor.of_user(actor) if actor else Actor(kind=ActorKind.SYSTEM, label="erasure")
    redactor = Redactor(personal_values(ids), identifying_values(ids))
    digests = set().union(*party_digests(ids).values())
    record_ids = list(SourceRecord.objects.filter(party_id__in=ids).values_list("pk", flat=True))
    job_ids = set(SourceRecord.objects.filter(pk__in=record_ids).exclude(last_import_job_id=None)
                  .values_list("last_import_job_id", flat=True))
    job_ids |= set(ConsentEvent.objects.filter(party_id__in=ids, import_job_id__isnull=False)
                   .values_list("import_job_id", flat=True))
    files = _files_holding(redactor, job_ids)

    _opt_out_everything(ids, ledger_actor)
    counts = _empty_rows(ids, now)
    _matcher_forget(ids, record_ids, redactor)
    # ledger states: only their free text (enumerated values like "email" must replay as they are)
    _redact_rows(ConsentEvent.objects.filter(party_id__in=ids), redactor,
                 text=["capture_source", "evidence"], documents=["previous", "new"],
                 only=["capture_source", "interests", "preferred_language"])
    for model in (ContactPointTypeConsent, ContactPointConsent):
        _redact_rows(model.objects.filter(party_id__in=ids), redactor, text=["capture_source"])
    _redact_rows(PrivacyPreference.objects.filter(party_id__in=ids), redactor, documents=["interests"])
    events = PartyEvent.objects.filter(pk__in=PartyEvent.objects.filter(parties__in=ids).values("pk"))
    _redact_rows(events, redactor, text=["reason"], documents=["before", "after", "changes"])
    _unlinked_rows(ids, redactor)
    counts["import_files"] = len(files)

    event = PartyEvent.objects.create(
        kind=EventKind.ERASURE, party_id=party.pk, actor=actor,
        actor_label=actor.get_username() if actor else "system",
        reason=redactor.text(reason.strip())[:500] or "erasure request",
        changes={"erased_parties": ids, "counts": counts})
    event.parties.set(ids)
    ErasureTombstone.objects.bulk_create(
        ErasureTombstone(kind=kind, digest=digest, erasure_event_id=event.pk, erased_at=now)
        for kind, digest in sorted(digests))
    removed = _files_remove(files)
    return ErasureResult(party_id=party.pk, party_ids=ids, event_id=event.pk, tombstones=len(digests),
                         counts=counts, files_removed=removed)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n != 1 else f"1 {what.removesuffix('es') if what.endswith('sses') else what[:-1]}"


def erasure_summary(result: ErasureResult) -> str:
    counts = result.counts
    merged = len(result.party_ids) - 1
    also = {0: "", 1: " and the party merged into it"}.get(
        merged, f" and the {merged} parties merged into it")
    emptied = ", ".join(_count(counts[k], k.replace("_", " ")) for k in (
        "source_records", "email addresses", "phone numbers", "postal addresses", "engagements"))
    return (f"Erased party {result.party_id}{also}: {emptied} emptied; "
            f"{_count(len(result.files_removed), 'stored import files')} removed; "
            f"{_count(result.tombstones, 'hashed identifiers')} kept so that the customer is not contacted "
            "again if imported again.")


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
    candidates = list(Party.objects.filter(pk__in=party_ids, erased_at__isnull=True,
                                           merged_into__isnull=True).values_list("pk", flat=True))
    if not candidates or not ErasureTombstone.objects.exists():
        return []
    per_party = party_digests(candidates)
    wanted = {digest for pairs in per_party.values() for _, digest in pairs}
    known = {}
    for digest, kind, erased_at in ErasureTombstone.objects.filter(digest__in=wanted).values_list(
            "digest", "kind", "erased_at"):
        known[digest] = (kind, erased_at)
    flagged = []
    for party_id, pairs in per_party.items():
        hits = sorted({known[d][0] for _, d in pairs if d in known})
        if not hits:
            continue
        when = min(known[d][1] for _, d in pairs if d in known)
        what = ", ".join(TombstoneKind(k).label.lower() for k in hits)
        preferences_set(
            party_id=party_id, actor=Actor(kind=ActorKind.SYSTEM, label=GUARD_LABEL),
            capture_source=CAPTURE_SOURCE,
            changes={"do_not_process": True, "do_not_solicit": True},
            evidence=f"matches a customer erased on {when:%Y-%m-%d} ({what})")
        flagged.append(party_id)
    return flagged


def tombstones_guard_hook(party_ids: Sequence[int], reason: str) -> None:
    if reason in ("import", "contact point edited", "split", "unmerge"):
        tombstones_guard(party_ids, reason)
