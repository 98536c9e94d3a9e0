"""The "consents" file kind: bulk consent changes (for example the opt-outs an email platform
exports) through the import pipeline, with its mapping, idempotency and error report.

Each row names a customer — by the source key in the chosen source system, or by an email
address or phone number — and a channel, purpose, status, capture date and capture source.
Every change is a ledger entry by "import #N line L". An opt-out or "seen" by email or phone
applies to every active party holding that value; an opt-in needs exactly one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consents.models import ActorKind, Channel, ConsentEvent, ConsentStatus, DataUsePurpose
from consents.services.ledger import Actor, consent_set
from parties.extensions import BatchResult, ImportKind
from parties.models import (
    ContactPointEmail,
    ContactPointPhone,
    ImportJob,
    ImportRejection,
    SourceRecord,
    SourceSystem,
)
from parties.services import standardize as std
from parties.services.imports.mapping import Columns, mapping_apply, mapping_source_column
from parties.services.imports.readers import RawRow

COLUMNS = ("source_key", "email", "phone", "channel", "purpose", "status", "captured_at", "capture_source")
SYNONYMS: dict[str, Sequence[str]] = {
    "source_key": ["customer id", "id", "key", "customer no", "kundennummer", "external id"],
    "email": ["e-mail", "email address", "mail"],
    "phone": ["telephone", "mobile", "phone number", "tel"],
    "channel": ["medium", "kanal"],
    "purpose": ["list", "topic", "consent type", "zweck"],
    "status": ["consent", "state", "subscribed", "opt in", "optin", "subscription status"],
    "captured_at": ["date", "capture date", "timestamp", "changed at", "unsubscribed at", "datum"],
    "capture_source": ["source", "origin", "quelle", "where"],
}
STATUS_WORDS = {
    "opt_in": ConsentStatus.OPT_IN,
    "in": ConsentStatus.OPT_IN,
    "yes": ConsentStatus.OPT_IN,
    "subscribed": ConsentStatus.OPT_IN,
    "true": ConsentStatus.OPT_IN,
    "1": ConsentStatus.OPT_IN,
    "opted in": ConsentStatus.OPT_IN,
    "optin": ConsentStatus.OPT_IN,
    "opt_out": ConsentStatus.OPT_OUT,
    "out": ConsentStatus.OPT_OUT,
    "no": ConsentStatus.OPT_OUT,
    "unsubscribed": ConsentStatus.OPT_OUT,
    "false": ConsentStatus.OPT_OUT,
    "0": ConsentStatus.OPT_OUT,
    "opted out": ConsentStatus.OPT_OUT,
    "optout": ConsentStatus.OPT_OUT,
    "seen": ConsentStatus.SEEN,
    "not_seen": ConsentStatus.NOT_SEEN,
    "not seen": ConsentStatus.NOT_SEEN,
}


class RowError(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def _when(text: str, source: SourceSystem) -> datetime:
    if not text:
        return timezone.now()
    parsed = parse_datetime(text) if ("T" in text or ":" in text) else None
    if parsed is None:
        day, problem = std.date_parse(text, source.date_order)
        if day is None:
            raise RowError("captured_at", text, problem or "unreadable date")
        parsed = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _parties(row: dict, source: SourceSystem, status: str) -> list[int]:
    key, email, phone = row.get("source_key", "").strip(), row.get("email", ""), row.get("phone", "")
    if key:
        record = SourceRecord.objects.filter(source_system=source, source_key=key).only("party_id").first()
        if record is None:
            raise RowError("source_key", key, f"no customer with source key {key!r} in {source.name}")
        # A merge moves the records to the survivor; should one still name a merged party,
        # consent_set writes the change on its survivor (under the parties' lock, so an unmerge
        # in between cannot send it astray) and says so in the ledger, as for every caller.
        return [record.party_id]
    if email.strip():
        cleaned = std.email_normalize(email)
        if cleaned.problem:
            raise RowError("email", email, cleaned.problem)
        ids = set(
            ContactPointEmail.objects.filter(normalized=cleaned.value, party__status="active").values_list(
                "party_id", flat=True
            )
        )
        column, value = "email", email
    elif phone.strip():
        cleaned_phone = std.phone_normalize(phone, source.default_region)
        if cleaned_phone.problem:
            raise RowError("phone", phone, cleaned_phone.problem)
        ids = set(
            ContactPointPhone.objects.filter(
                normalized=cleaned_phone.normalized, party__status="active"
            ).values_list("party_id", flat=True)
        )
        column, value = "phone", phone
    else:
        raise RowError("source_key", "", "give a source key, an email address or a phone number")
    if not ids:
        raise RowError(column, value, f"no active customer has this {column}")
    if status == ConsentStatus.OPT_IN and len(ids) > 1:
        raise RowError(
            column, value, f"{len(ids)} customers share this {column}; an opt-in needs the source key"
        )
    return sorted(ids)


def consent_batch_import(
    *, job: ImportJob, source: SourceSystem, rows: Sequence[RawRow], mapping: Columns, prepared=None
) -> BatchResult:
    """Apply one batch of consent rows; each row is its own savepoint, so a bad row is
    reported (line, column, value, reason) and the others still apply."""
    purposes = set(DataUsePurpose.objects.filter(is_active=True).values_list("code", flat=True))
    rejections: list[ImportRejection] = []
    done = unchanged = 0
    changed_parties: set[int] = set()
    before = ConsentEvent.objects.filter(import_job_id=job.pk).count()
    for raw in rows:
        if raw.error:
            rejections.append(
                ImportRejection(job=job, line=raw.line, column="", value="", reason=raw.error[:500])
            )
            continue
        row = {k: (v or "").strip() for k, v in mapping_apply(mapping, raw.values).items()}
        try:
            channel = row.get("channel", "").lower()
            if channel not in Channel.values:
                raise RowError("channel", row.get("channel", ""), f"not one of {', '.join(Channel.values)}")
            purpose = row.get("purpose", "").lower().replace(" ", "_")
            if purpose not in purposes:
                raise RowError("purpose", row.get("purpose", ""), f"not one of {', '.join(sorted(purposes))}")
            status = STATUS_WORDS.get(row.get("status", "").lower())
            if status is None:
                raise RowError("status", row.get("status", ""), "not opt_in, opt_out, seen or not_seen")
            when = _when(row.get("captured_at", ""), source)
            capture_source = row.get("capture_source") or f"{source.name} file, import #{job.pk}"
            party_ids = _parties(row, source, status)
            actor = Actor(kind=ActorKind.IMPORT, import_job_id=job.pk, import_line=raw.line)
            for party_id in party_ids:
                with transaction.atomic():
                    consent_set(
                        party_id=party_id,
                        channel=channel,
                        purpose=purpose,
                        status=status,
                        captured_at=when,
                        capture_source=capture_source,
                        actor=actor,
                    )
            changed_parties.update(party_ids)
            done += 1
        except RowError as exc:
            rejections.append(
                ImportRejection(
                    job=job,
                    line=raw.line,
                    column=mapping_source_column(mapping, exc.column)[:255],
                    value=exc.value[:2000],
                    reason=exc.reason[:500],
                )
            )
        except ValidationError as exc:
            field, messages = (
                next(iter(exc.message_dict.items())) if hasattr(exc, "error_dict") else ("", exc.messages)
            )
            rejections.append(
                ImportRejection(
                    job=job,
                    line=raw.line,
                    column=mapping_source_column(mapping, field)[:255],
                    value=row.get(field, "")[:2000],
                    reason=" ".join(messages)[:500],
                )
            )
    ImportRejection.objects.bulk_create(rejections)
    written = ConsentEvent.objects.filter(import_job_id=job.pk).count() - before
    unchanged = max(done - written, 0)
    return BatchResult(
        created=0,
        updated=min(written, done),
        unchanged=unchanged,
        rejected=len(rejections),
        changed_party_ids=[],
    )


CONSENTS_KIND = ImportKind(
    name="consents",
    label="Consents (opt-ins and opt-outs)",
    columns=COLUMNS,
    required=("channel", "purpose", "status"),
    synonyms=SYNONYMS,
    handle_batch=consent_batch_import,
    description="One row per consent change: the customer (source key, or email or phone), the "
    "channel, the purpose, opt_in / opt_out / seen, when and where it was captured.",
    example_path="consents/examples/consents.csv",
    permission="consents.change_contactpointtypeconsent",  # marketing staff upload opt-out lists
)
