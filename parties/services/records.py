"""From a raw source row to standardized values, and from standardized rows to parties.

``row_standardize`` reads one row written with the canonical column names (see README) and
never raises: values it cannot read are kept raw and reported as problems. ``parties_create_from_rows``
turns a batch of standardized rows into new parties with their source records, contact points
and identifiers in a handful of bulk inserts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from nameparser import HumanName

from parties.columns import CANONICAL_COLUMNS
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    DataQualityIssue,
    ImportJob,
    PartyIdentification,
    PartyKind,
    SourceRecord,
    SourceSystem,
    Validity,
)
from parties.models.relations import IdentifierType
from parties.services import standardize as std
from parties.services.golden import GOLDEN_ATTRIBUTES


@dataclass(frozen=True)
class Problem:
    """A value that could not be standardized: the row keeps it raw."""

    field: str
    value: str
    reason: str


@dataclass
class StandardizedRow:
    source_key: str
    kind: str
    attributes: dict[str, str] = field(default_factory=dict)
    emails: list[dict[str, str]] = field(default_factory=list)
    phones: list[dict[str, str]] = field(default_factory=list)
    address: dict[str, str] | None = None
    identifier: dict[str, str] | None = None
    source_updated_at: datetime | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        # Built by hand: dataclasses.asdict deep-copies and is the slowest step of a bulk import.
        # Contact points keep their raw values in the raw payload and their details in their
        # own tables; the record keeps what matching and survivorship read.
        address = self.address
        return {
            "source_key": self.source_key,
            "kind": self.kind,
            "attributes": self.attributes,
            "emails": [e["normalized"] for e in self.emails if e["normalized"]],
            "phones": [p["normalized"] for p in self.phones if p["normalized"]],
            "address": {k: v for k, v in address.items() if k != "raw"} if address else None,
            "identifier": self.identifier,
            "source_updated_at": self.source_updated_at.isoformat() if self.source_updated_at else None,
            "problems": [{"field": p.field, "value": p.value, "reason": p.reason} for p in self.problems],
        }


def content_hash(raw: Mapping[str, Any], mapped: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of the raw row and, when a column mapping changed it, of the mapped row too:
    a re-import with a different mapping re-standardizes the row."""
    content: Any = raw if mapped is None or mapped == raw else [raw, mapped]
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _value(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else std.collapse(str(value))


def _names(raw: Mapping[str, Any], row: StandardizedRow) -> None:
    given, family = _value(raw, "given_name"), _value(raw, "family_name")
    attrs = row.attributes
    attrs["salutation"] = std.collapse(raw.get("salutation"))
    attrs["middle_name"] = std.name_clean(raw.get("middle_name"))
    full_name = _value(raw, "full_name")
    if not given and not family and full_name and row.kind == PartyKind.INDIVIDUAL:
        parsed = HumanName(full_name)
        given, family = parsed.first, parsed.last
        attrs["middle_name"] = attrs["middle_name"] or std.name_clean(parsed.middle)
        attrs["salutation"] = attrs["salutation"] or parsed.title
        attrs["name_suffix"] = std.collapse(parsed.suffix)
    attrs["given_name"] = std.name_clean(given)
    attrs["family_name"] = std.name_clean(family)


def row_standardize(raw: Mapping[str, Any], *, source: SourceSystem) -> StandardizedRow:
    """Standardize one canonical row. Never raises; unreadable values become ``problems``."""
    organization_name = std.organization_name_clean(raw.get("organization_name"))
    kind_raw = _value(raw, "party_type").lower()
    has_person_name = any(_value(raw, n) for n in ("given_name", "family_name", "full_name"))
    if kind_raw in {"organization", "organisation", "org", "company", "business"}:
        kind = PartyKind.ORGANIZATION
    elif kind_raw in {"", "individual", "person", "consumer", "private"}:
        kind = (
            PartyKind.ORGANIZATION
            if not kind_raw and organization_name and not has_person_name
            else PartyKind.INDIVIDUAL
        )
    else:
        kind = PartyKind.INDIVIDUAL
    row = StandardizedRow(source_key=_value(raw, "source_key"), kind=kind)
    if kind_raw and kind_raw not in {
        "organization",
        "organisation",
        "org",
        "company",
        "business",
        "individual",
        "person",
        "consumer",
        "private",
    }:
        row.problems.append(Problem("party_type", kind_raw, "unknown party type; read as individual"))

    _names(raw, row)
    row.attributes["organization_name"] = organization_name

    birth_raw = _value(raw, "birth_date")
    birth, problem = std.date_parse(birth_raw, source.date_order)
    row.attributes["birth_date"] = birth.isoformat() if birth else ""
    if problem:
        row.problems.append(Problem("birth_date", birth_raw, problem))

    gender = std.gender_normalize(raw.get("gender"))
    row.attributes["gender"] = gender.value
    if not gender.ok:
        row.problems.append(Problem("gender", _value(raw, "gender"), gender.problem))

    for column in ("email", "email_2"):
        raw_email = _value(raw, column)
        if not raw_email:
            continue
        cleaned = std.email_normalize(raw_email)
        row.emails.append(
            {"column": column, "raw": raw_email, "normalized": cleaned.value, "problem": cleaned.problem}
        )
        if cleaned.problem:
            row.problems.append(Problem(column, raw_email, cleaned.problem))

    # phones are read in the customer's country: the row's address country, else the source's
    # region (country_normalize is cached; _address below asks for the same value)
    address_country = std.country_normalize(_value(raw, "country")).value
    for column in ("phone", "phone_2"):
        raw_phone = _value(raw, column)
        if not raw_phone:
            continue
        phone = std.phone_normalize(raw_phone, source.default_region, address_country=address_country)
        row.phones.append(
            {
                "column": column,
                "raw": raw_phone,
                "normalized": phone.normalized,
                "country": phone.country,
                "phone_type": phone.phone_type,
                "extension": phone.extension,
                "problem": phone.problem,
            }
        )
        if phone.problem:
            row.problems.append(Problem(column, raw_phone, phone.problem))

    _address(raw, row)
    _identifier(raw, row)

    updated_raw = _value(raw, "updated_at")
    if updated_raw:
        parsed = parse_datetime(updated_raw) if "T" in updated_raw or ":" in updated_raw else None
        if parsed is None:
            day, _ = std.date_parse(updated_raw, source.date_order)
            parsed = datetime(day.year, day.month, day.day) if day else None  # noqa: DTZ001
        if parsed is None:
            row.problems.append(Problem("updated_at", updated_raw, "unreadable date and time"))
        else:
            row.source_updated_at = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return row


def _address(raw: Mapping[str, Any], row: StandardizedRow) -> None:
    parts = {
        name: _value(raw, name)
        for name in ("address_line1", "address_line2", "city", "region", "postal_code", "country")
    }
    if not any(parts.values()):
        return
    country = std.country_normalize(parts["country"])
    if not country.ok:
        row.problems.append(Problem("country", parts["country"], country.problem))
    address = {
        "raw": ", ".join(v for v in parts.values() if v),
        "line1": std.street_clean(parts["address_line1"]),
        "line2": std.street_clean(parts["address_line2"]),
        "city": std.name_clean(parts["city"]),
        "region": std.name_clean(parts["region"]),
        "postal_code": std.postal_code_clean(parts["postal_code"]),
        "country": country.value,
    }
    address["normalized"] = std.address_key(
        line1=address["line1"],
        line2=address["line2"],
        postal_code=address["postal_code"],
        city=address["city"],
        country=address["country"],
    )
    row.address = address


def _identifier(raw: Mapping[str, Any], row: StandardizedRow) -> None:
    value = _value(raw, "identifier_value")
    if not value:
        return
    id_type = _value(raw, "identifier_type").lower().replace(" ", "_") or IdentifierType.OTHER
    if id_type not in IdentifierType.values:
        row.problems.append(Problem("identifier_type", id_type, "unknown identifier type; kept as other"))
        id_type = IdentifierType.OTHER
    row.identifier = {"type": id_type, "raw": value, "normalized": std.identifier_normalize(value)}


def row_identifies_party(row: StandardizedRow) -> bool:
    """A row can become a party only if something names or reaches it."""
    attrs = row.attributes
    return bool(
        attrs.get("given_name")
        or attrs.get("family_name")
        or attrs.get("organization_name")
        or any(e["normalized"] for e in row.emails)
        or any(p["normalized"] for p in row.phones)
        or row.identifier
    )


@dataclass(frozen=True)
class NewRecord:
    """A raw row and its standardization, ready to become (or update) a source record."""

    raw: Mapping[str, Any]
    row: StandardizedRow
    line: int | None = None
    hash: str = ""

    @property
    def content_hash(self) -> str:
        return self.hash or content_hash(self.raw)


def quality_issues_create(pairs: Sequence[tuple[SourceRecord, NewRecord]], *, job: ImportJob | None) -> int:
    """Record every value that could not be standardized, against its source record."""
    issues = [
        DataQualityIssue(
            source_record=record,
            job=job,
            line=item.line,
            field=p.field,
            value=p.value[:2000],
            reason=p.reason[:500],
        )
        for record, item in pairs
        for p in item.row.problems
    ]
    DataQualityIssue.objects.bulk_create(issues)
    return len(issues)


def source_record_update(
    *, record: SourceRecord, item: NewRecord, seen_at: datetime, job: ImportJob | None = None
) -> SourceRecord:
    """A known source record changed in its source: store the new row, add any new contact
    points to its party (old ones are kept: nothing is lost), replace its data-quality
    issues. The caller re-derives the party's golden record."""
    record.raw_payload = dict(item.raw)
    record.standardized = item.row.as_json()
    record.content_hash = item.content_hash
    record.source_updated_at = item.row.source_updated_at
    record.last_seen_at = seen_at
    record.last_import_job = job
    record.import_line = item.line
    record.save()
    _contact_points_merge(record, item.row, seen_at)
    DataQualityIssue.objects.filter(source_record=record).delete()
    quality_issues_create([(record, item)], job=job)
    return record


def _contact_points_merge(record: SourceRecord, row: StandardizedRow, seen_at: datetime) -> None:
    """Add the row's contact points to the record's party, reusing those with the same
    normalized value (and linking this record as one more source of them)."""
    party_id = record.party_id
    for model, values in (
        (
            ContactPointEmail,
            [
                {
                    "normalized": e["normalized"][:320],
                    "raw_value": e["raw"][:320],
                    **dict(zip(("validity", "validity_reason"), validity_of(e["problem"]), strict=True)),
                }
                for e in row.emails
                if e["normalized"]
            ],
        ),
        (
            ContactPointPhone,
            [
                {
                    "normalized": p["normalized"][:32],
                    "raw_value": p["raw"][:64],
                    "country": p["country"],
                    "phone_type": p["phone_type"],
                    **dict(zip(("validity", "validity_reason"), validity_of(p["problem"]), strict=True)),
                }
                for p in row.phones
                if p["normalized"]
            ],
        ),
        (
            ContactPointAddress,
            [
                {
                    "normalized": a["normalized"][:400],
                    "raw_value": a["raw"],
                    "line1": a["line1"][:200],
                    "line2": a["line2"][:200],
                    "city": a["city"][:100],
                    "region": a["region"][:100],
                    "postal_code": a["postal_code"][:20],
                    "country": a["country"],
                }
                for a in ([row.address] if row.address and row.address["normalized"] else [])
            ],
        ),
    ):
        for fields in values:
            point, created = model.objects.get_or_create(
                party_id=party_id,
                normalized=fields["normalized"],
                defaults={
                    **fields,
                    "first_seen_at": seen_at,
                    "last_seen_at": seen_at,
                    "source_record": record,
                    "is_primary": not model.objects.filter(party_id=party_id).exists(),
                },
            )
            if not created:
                model.objects.filter(pk=point.pk).update(last_seen_at=seen_at)
                if point.source_record_id != record.pk:
                    point.other_source_records.add(record)
    if row.identifier:
        PartyIdentification.objects.get_or_create(
            party_id=party_id,
            identifier_type=row.identifier["type"],
            issuer=record.source_system.name[:100],
            normalized=row.identifier["normalized"][:100],
            defaults={"value": row.identifier["raw"][:100], "source_record": record},
        )


def validity_of(problem: str) -> tuple[str, str]:
    """A contact point's validity and reason from its standardization problem."""
    return (Validity.INVALID, problem[:200]) if problem else (Validity.VALID, "")


__all__ = [
    "CANONICAL_COLUMNS",
    "GOLDEN_ATTRIBUTES",
    "NewRecord",
    "Problem",
    "StandardizedRow",
    "content_hash",
    "quality_issues_create",
    "row_identifies_party",
    "row_standardize",
    "source_record_update",
]
