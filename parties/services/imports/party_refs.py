"""What the touch-point file kinds (engagements, memberships) share: how a row names its
customer, and how its values are read.

A row names its customer by one of, in this order of precedence:

1. ``source_key``: the key of a source record already imported, in the job's source system or
   in the one the ``source_system`` column names. A merged customer resolves to its survivor.
2. ``email``: the normalized address, among active contact points of active parties.
3. ``phone``: written any way; read to E.164 with the job's phone region and looked up
   exactly, else by its last 9 digits (``ContactPointPhone.matching_digits``). A touch-point
   row has no address country, so a foreign customer's number written the national way
   (stored in E.164 read in their address country) is found by those digits.

A reference that finds no party, or more than one active party, rejects the row. The
references of a whole batch are resolved with a handful of queries, not one per row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from parties.models import (
    ContactPointEmail,
    ContactPointPhone,
    ImportRejection,
    Party,
    PartyStatus,
    SourceRecord,
    SourceSystem,
)
from parties.services import standardize as std
from parties.services.imports.mapping import mapping_apply, mapping_source_column
from parties.services.imports.readers import RawRow

REFERENCE_COLUMNS = ("source_system", "source_key", "email", "phone")
REFERENCE_SYNONYMS: dict[str, Sequence[str]] = {
    "source_system": ["customer source", "customer system", "source name", "system"],
    "source_key": [
        "customer id",
        "customer key",
        "customer no",
        "customer number",
        "cust id",
        "client id",
        "contact id",
        "account id",
        "kundennr",
        "kundennummer",
    ],
    "email": ["e-mail", "email address", "e-mail address", "mail", "customer email"],
    "phone": ["telephone", "tel", "phone number", "mobile", "cell", "customer phone"],
}
FUTURE_TOLERANCE = timedelta(days=1)
_BATCH_QUERY = 2000  # keys per IN (...) list: well under SQLite's variable limit


class RowError(ValueError):
    """One row cannot be imported: ``column`` is the target field it is about."""

    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


@dataclass(frozen=True)
class PartyRef:
    party_id: int
    source_record_id: int | None = None  # set when the row named its customer by source key


def _chunks(values: Sequence, size: int = _BATCH_QUERY) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _phone_e164(text: str, region: str) -> tuple[str, str]:
    """(E.164 or "", the problem reading it)."""
    cleaned = std.phone_normalize(text, region)
    if cleaned.problem or not cleaned.normalized.startswith("+"):
        return "", cleaned.problem or "unreadable phone number"
    return cleaned.normalized, ""


class PartyReferences:
    """The customers a batch of rows names. Build it with the batch's mapped rows, then call
    ``resolve(row)`` per row (raises ``RowError``)."""

    def __init__(self, rows: Sequence[Mapping[str, str]], *, source: SourceSystem) -> None:
        self.source = source
        self._systems = {s.name.casefold(): s for s in SourceSystem.objects.only("id", "name")}
        keys: dict[int, set[str]] = {}
        emails: set[str] = set()
        phones: set[str] = set()
        for row in rows:
            if row.get("source_key"):
                system = self._system(row)
                if system is not None:
                    keys.setdefault(system.pk, set()).add(row["source_key"])
            elif row.get("email"):
                emails.add(std.email_normalize(row["email"]).value)
            elif row.get("phone"):
                e164, _ = _phone_e164(row["phone"], source.default_region)
                if e164:
                    phones.add(e164)
        self._records: dict[tuple[int, str], tuple[int, int]] = {}  # → (record id, party id)
        for system_id, wanted in keys.items():
            for chunk in _chunks(sorted(wanted)):
                for key, pk, party_id in SourceRecord.objects.filter(
                    source_system_id=system_id, source_key__in=chunk
                ).values_list("source_key", "pk", "party_id"):
                    self._records[(system_id, key)] = (pk, party_id)
        self._survivors = self._survivors_of({p for _, p in self._records.values()})
        # an erased customer's records keep a placeholder key ("erased-<id>"): nothing is added
        # to them through it
        self._erased = set(
            Party.objects.filter(pk__in=set(self._survivors.values()), erased_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
        self._emails = self._owners(ContactPointEmail, emails)
        self._phones = self._owners(ContactPointPhone, phones)

    @staticmethod
    def _owners(model, values: set[str]) -> dict[str, set[int]]:
        owners: dict[str, set[int]] = {}
        for chunk in _chunks(sorted(values)):
            for value, party_id in _reachable(model.objects.filter(normalized__in=chunk)).values_list(
                "normalized", "party_id"
            ):
                owners.setdefault(value, set()).add(party_id)
        return owners

    @staticmethod
    def _survivors_of(party_ids: set[int]) -> dict[int, int]:
        """party id → the active party it lives on in (itself unless merged)."""
        from parties.selectors import survivors_of

        return survivors_of(party_ids)

    def _system(self, row: Mapping[str, str]) -> SourceSystem | None:
        name = row.get("source_system", "")
        return self._systems.get(name.casefold()) if name else self.source

    def resolve(self, row: Mapping[str, str]) -> PartyRef:
        key, email, phone = row.get("source_key", ""), row.get("email", ""), row.get("phone", "")
        if key:
            system = self._system(row)
            if system is None:
                raise RowError(
                    "source_system",
                    row["source_system"],
                    f"no source system is named {row['source_system']!r}",
                )
            found = self._records.get((system.pk, key))
            if found is None:
                raise RowError("source_key", key, f"no customer with source key {key!r} in {system.name}")
            record_id, party_id = found
            party_id = self._survivors.get(party_id, party_id)
            if party_id in self._erased:
                raise RowError(
                    "source_key",
                    key,
                    f"the customer with source key {key!r} was erased on "
                    "request (right to be forgotten); nothing is added to them",
                )
            return PartyRef(party_id, record_id)
        if email:
            cleaned = std.email_normalize(email)
            if cleaned.problem:
                raise RowError("email", email, cleaned.problem)
            return PartyRef(self._one("email", email, "email address", self._emails.get(cleaned.value)))
        if phone:
            e164, problem = _phone_e164(phone, self.source.default_region)
            owners = self._phones.get(e164) if e164 else None
            if not owners:
                owners = self._by_last_digits(e164 or phone)
            if not owners and problem:
                raise RowError("phone", phone, f"{problem}, and no customer's number ends in its digits")
            return PartyRef(self._one("phone", phone, "phone number", owners))
        raise RowError(
            "source_key", "", "no customer named: give a source key, an email address or a phone number"
        )

    @staticmethod
    def _by_last_digits(text: str) -> set[int]:
        """A number written the national way, or stored unreadable: by its last digits."""
        condition = ContactPointPhone.matching_digits(text)
        if condition is None:
            return set()
        return set(
            _reachable(ContactPointPhone.with_last9().filter(condition))
            .values_list("party_id", flat=True)
            .distinct()[:20]
        )

    @staticmethod
    def _one(column: str, value: str, what: str, owners: set[int] | None) -> int:
        if not owners:
            raise RowError(column, value, f"no active customer has this {what}")
        if len(owners) > 1:
            ids = ", ".join(str(pk) for pk in sorted(owners)[:5])
            raise RowError(
                column,
                value,
                f"{len(owners)} customers have this {what} (parties {ids}); "
                "name the customer by source key instead",
            )
        return next(iter(owners))


def _reachable(contact_points):
    """Contact points that still identify someone: active, of an active, unerased party."""
    return contact_points.filter(
        is_active=True, party__status=PartyStatus.ACTIVE, party__erased_at__isnull=True
    )


# --- reading values --------------------------------------------------------------------------


def choice_read(value: str, words: Mapping[str, str], column: str, what: str) -> str:
    """A choice written as its code, its label or a known synonym, in any case."""
    found = words.get(word_key(value))
    if found is None:
        known = ", ".join(sorted(set(words.values())))
        raise RowError(column, value, f"unknown {what} {value!r} (one of: {known})")
    return found


def word_key(text: str) -> str:
    return re.sub(r"[\s_\-/]+", " ", text.strip().casefold()).strip()


def choice_words(choices, synonyms: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """``{written form: code}`` for a Django ``TextChoices``: codes, labels and synonyms."""
    words = {}
    for code, label in choices.choices:
        words[word_key(code)] = code
        words[word_key(str(label))] = code
    for code, extra in synonyms.items():
        for word in extra:
            words[word_key(word)] = code
    return words


def datetime_read(text: str, column: str, *, date_order: str, now: datetime) -> datetime:
    """An ISO date-time (with or without zone; without, it is UTC) or a date in ISO or the
    source's date order (noon UTC, so it shows as the same day in any time zone). Rejects
    times more than a day in the future."""
    try:
        parsed = parse_datetime(text) if ("T" in text or ":" in text) else None
    except ValueError:
        parsed = None
    if parsed is None:
        day, _problem = std.date_parse(text, date_order)
        if day is None:
            raise RowError(
                column, text, "not a date or date-time (write it like 2026-03-31 or 2026-03-31T14:05:00Z)"
            )
        parsed = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > now + FUTURE_TOLERANCE:
        raise RowError(column, text, "more than a day in the future")
    return parsed


def date_read(text: str, column: str, *, date_order: str) -> date | None:
    if not text:
        return None
    day, _problem = std.date_parse(text, date_order)
    if day is None:
        raise RowError(
            column,
            text,
            f"not a date (write it like 2026-03-31, or in the source's {date_order.lower()} order)",
        )
    return day


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def decimal_read(text: str, column: str, *, places: int, max_digits: int) -> Decimal | None:
    if not text:
        return None
    compact = text.replace(" ", "")
    if not _NUMBER.match(compact):
        raise RowError(
            column, text, "not a number (write it like 1234.50: a dot for decimals, no thousands separators)"
        )
    try:
        value = Decimal(compact)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise RowError(column, text, "not a number") from None
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise RowError(column, text, f"more than {places} decimal places")
    if abs(value) >= Decimal(10) ** (max_digits - places):
        raise RowError(column, text, "too large")
    return value.quantize(Decimal(1).scaleb(-places))


def integer_read(text: str, column: str, *, low: int, high: int) -> int | None:
    if not text:
        return None
    compact = text.replace(" ", "")
    if re.fullmatch(r"[+-]?\d+(\.0*)?", compact) is None:
        raise RowError(column, text, "not a whole number")
    value = int(compact.split(".")[0])
    if not low <= value <= high:
        raise RowError(column, text, f"must be between {low} and {high}")
    return value


def text_read(text: str, column: str, *, max_length: int) -> str:
    if len(text) > max_length:
        raise RowError(column, text, f"longer than {max_length} characters")
    return text


def attributes_read(row: Mapping[str, str], raw_values: Mapping[str, str], mapped: set[str]) -> dict:
    """The ``attributes`` column (a JSON object), plus every column the mapping does not use,
    under its own header (non-empty values only; a column wins over a JSON key of its name)."""
    attributes: dict = {}
    text = row.get("attributes", "")
    if text:
        try:
            attributes = json.loads(text)
        except ValueError as exc:
            raise RowError("attributes", text, f"not valid JSON: {exc}") from None
        if not isinstance(attributes, dict):
            raise RowError("attributes", text, 'not a JSON object (write it like {"store": "Berlin"})')
    for header, value in raw_values.items():
        if header not in mapped and header and value not in (None, ""):
            attributes[header] = value
    return attributes


def mapped_columns(mapping: Mapping[str, Sequence[str]]) -> set[str]:
    return {column for columns in mapping.values() for column in columns}


def rows_touch(model, ids: Sequence[int], *, job_id: int) -> None:
    """Unchanged rows: only remember that this import delivered them too."""
    for chunk in _chunks(list(ids)):
        model.objects.filter(pk__in=chunk).update(last_import_job_id=job_id)


def parties_touch(party_ids: Iterable[int], *, now: datetime) -> None:
    """Mark parties changed, for API clients that sync by ``updated_since``."""
    ids = sorted(set(party_ids))
    no_key = connection.features.has_select_for_no_key_update
    for chunk in _chunks(ids):
        # locked in primary-key order first (an UPDATE locks in whatever order it scans): the
        # lock order of parties_lock's docstring
        list(
            Party.objects.select_for_update(no_key=no_key)
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Party.objects.filter(pk__in=chunk).update(updated_at=now)


class BatchRows:
    """One batch of a touch-point file, read: each good row's line, mapped text and values with
    its customer (``party_id``, ``source_record_id``), and the rejections of the others, each
    naming its line, the file's column and why."""

    def __init__(self, *, job, mapping) -> None:
        self.job, self.mapping = job, mapping
        self.rows: list[tuple[int, dict[str, str], dict]] = []
        self.rejections: list[ImportRejection] = []

    def reject(self, line: int, error: RowError) -> None:
        column = mapping_source_column(self.mapping, error.column) if error.column else ""
        self.rejections.append(
            ImportRejection(
                job=self.job,
                line=line,
                column=column[:255],
                value=error.value[:2000],
                reason=error.reason[:500],
            )
        )

    def rejections_save(self) -> int:
        ImportRejection.objects.bulk_create(self.rejections)
        return len(self.rejections)


def batch_rows_read(
    *,
    job,
    source: SourceSystem,
    rows: Sequence[RawRow],
    mapping,
    values_read: Callable[[dict[str, str], RawRow], dict],
) -> BatchRows:
    """Map each raw row, read its values with ``values_read(row, raw)`` and find its customer
    for the whole batch at once; a row that fails any of that is rejected, the rest kept."""
    batch = BatchRows(job=job, mapping=mapping)
    read: list[tuple[int, dict[str, str], dict]] = []
    for raw in rows:
        if raw.error:
            batch.reject(raw.line, RowError("", "", raw.error))
            continue
        row = {target: (value or "").strip() for target, value in mapping_apply(mapping, raw.values).items()}
        try:
            read.append((raw.line, row, values_read(row, raw)))
        except RowError as exc:
            batch.reject(raw.line, exc)
    references = PartyReferences([row for _, row, _ in read], source=source)
    for line, row, values in read:
        try:
            ref = references.resolve(row)
        except RowError as exc:
            batch.reject(line, exc)
            continue
        values.update(party_id=ref.party_id, source_record_id=ref.source_record_id)
        batch.rows.append((line, row, values))
    return batch


__all__ = [
    "REFERENCE_COLUMNS",
    "REFERENCE_SYNONYMS",
    "BatchRows",
    "PartyRef",
    "PartyReferences",
    "RowError",
    "attributes_read",
    "batch_rows_read",
    "choice_read",
    "choice_words",
    "date_read",
    "datetime_read",
    "decimal_read",
    "integer_read",
    "mapped_columns",
    "parties_touch",
    "rows_touch",
    "text_read",
    "word_key",
]
