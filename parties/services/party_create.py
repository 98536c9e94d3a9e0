"""New parties from standardized rows, in bulk.

A row becomes a *plan*: the rows it adds to each table (party, source record, contact
points, identifier, data-quality issues), with the party's and source record's ids left as
placeholders. Plans can be made anywhere — in a pool process during a large import — and
on PostgreSQL they are rendered there straight to COPY text, so the process that writes only
fills in ids and streams lines. ``parties_create_from_rows`` does all of it in one go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    DataQualityIssue,
    ImportJob,
    Party,
    PartyIdentification,
    PartyKind,
    SourceRecord,
    SourceSystem,
    Validity,
)
from parties.services import outbox
from parties.services.bulk_writer import (
    PARTY_ID,
    RECORD_ID,
    copy_lines,
    copy_render,
    ids_allocate,
    rows_insert,
)
from parties.services.golden import golden_values
from parties.services.records import NewRecord, StandardizedRow, validity_of

# table name in a plan → (model, whether the plan sets its primary key)
TABLES: dict[str, tuple[type[models.Model], bool]] = {
    "party": (Party, True),
    "record": (SourceRecord, True),
    "email": (ContactPointEmail, False),
    "phone": (ContactPointPhone, False),
    "address": (ContactPointAddress, False),
    "identification": (PartyIdentification, False),
    "issue": (DataQualityIssue, False),
}
Plan = dict[str, list[Any]]  # table → row dicts, or COPY lines once rendered


@dataclass(frozen=True)
class CreatedRecord:
    """A source record written by ``parties_create_from_rows``."""

    pk: int
    party_id: int
    source_key: str


def _display_name(kind: str, values: dict[str, Any]) -> str:
    """What ``Party.compute_display_name`` gives, without building a model instance."""
    if kind == PartyKind.ORGANIZATION:
        return (values.get("organization_name") or "").strip()
    parts = (values.get(k) for k in ("given_name", "middle_name", "family_name", "name_suffix"))
    return " ".join(p.strip() for p in parts if p and p.strip())


def record_plan(item: NewRecord, *, source: SourceSystem, job_id: int | None, seen_at: datetime) -> Plan:
    """The rows one new party adds to each table; ids are the placeholders of bulk_writer."""
    row: StandardizedRow = item.row
    values = {k: v for k, v in golden_values([(source.trust_rank, row)]).items() if v}
    common = {
        "party_id": PARTY_ID,
        "source_record_id": RECORD_ID,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }
    plan: Plan = {
        "party": [
            {"id": PARTY_ID, "kind": row.kind, **values, "display_name": _display_name(row.kind, values)}
        ],
        "record": [
            {
                "id": RECORD_ID,
                "source_system_id": source.pk,
                "source_key": row.source_key,
                "party_id": PARTY_ID,
                "raw_payload": dict(item.raw),
                "standardized": row.as_json(),
                "content_hash": item.content_hash,
                "source_updated_at": row.source_updated_at,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
                "last_import_job_id": job_id,
                "import_line": item.line,
            }
        ],
        "email": [],
        "phone": [],
        "address": [],
        "identification": [],
        "issue": [
            {
                "source_record_id": RECORD_ID,
                "job_id": job_id,
                "line": item.line,
                "field": p.field,
                "value": p.value[:2000],
                "reason": p.reason[:500],
            }
            for p in row.problems
        ],
    }
    seen: set[str] = set()
    for email in row.emails:  # values equal after normalization become one contact point
        if email["normalized"] and email["normalized"] not in seen:
            validity, reason = validity_of(email["problem"])
            plan["email"].append(
                {
                    "raw_value": email["raw"][:320],
                    "normalized": email["normalized"][:320],
                    "is_primary": not seen,
                    "validity": validity,
                    "validity_reason": reason,
                    **common,
                }
            )
            seen.add(email["normalized"])
    seen = set()
    for phone in row.phones:
        if phone["normalized"] and phone["normalized"] not in seen:
            validity, reason = validity_of(phone["problem"])
            plan["phone"].append(
                {
                    "raw_value": phone["raw"][:64],
                    "normalized": phone["normalized"][:32],
                    "country": phone["country"],
                    "phone_type": phone["phone_type"],
                    "extension": phone["extension"][:16],
                    "usage": "mobile" if phone["phone_type"] == "mobile" else "home",
                    "is_primary": not seen,
                    "validity": validity,
                    "validity_reason": reason,
                    **common,
                }
            )
            seen.add(phone["normalized"])
    address = row.address
    if address and address["normalized"]:
        plan["address"].append(
            {
                "raw_value": address["raw"],
                "line1": address["line1"][:200],
                "line2": address["line2"][:200],
                "city": address["city"][:100],
                "region": address["region"][:100],
                "postal_code": address["postal_code"][:20],
                "country": address["country"],
                "normalized": address["normalized"][:400],
                "is_primary": True,
                "validity": Validity.VALID if address["country"] else Validity.UNVERIFIED,
                "usage": "work" if row.kind == PartyKind.ORGANIZATION else "home",
                **common,
            }
        )
    if row.identifier:
        plan["identification"].append(
            {
                "party_id": PARTY_ID,
                "source_record_id": RECORD_ID,
                "identifier_type": row.identifier["type"],
                "issuer": source.name[:100],
                "value": row.identifier["raw"][:100],
                "normalized": row.identifier["normalized"][:100],
            }
        )
    return plan


def plan_render(plan: Plan, *, now: datetime) -> Plan:
    """On PostgreSQL, the plan's rows as COPY lines (done where the plan is made)."""
    if connection.vendor != "postgresql":
        return plan
    return {
        table: copy_render(TABLES[table][0], rows, with_pk=TABLES[table][1], now=now)
        for table, rows in plan.items()
    }


@transaction.atomic
def plans_write(keys: Sequence[str], plans: Sequence[Plan], *, now: datetime) -> list[CreatedRecord]:
    """Write rendered (PostgreSQL) or plain plans: allocate the ids, fill them in, insert."""
    party_ids = ids_allocate(Party, len(plans))
    record_ids = ids_allocate(SourceRecord, len(plans))
    per_table: dict[str, list[Any]] = {table: [] for table in TABLES}
    rendered = connection.vendor == "postgresql"
    for plan, party_id, record_id in zip(plans, party_ids, record_ids, strict=True):
        if rendered:
            party, record = str(party_id), str(record_id)
            for table, lines in plan.items():
                per_table[table].extend(
                    line.replace(PARTY_ID, party).replace(RECORD_ID, record) for line in lines
                )
        else:
            ids = {PARTY_ID: party_id, RECORD_ID: record_id}
            for table, rows in plan.items():
                per_table[table].extend(
                    {k: ids.get(v, v) if isinstance(v, str) else v for k, v in row.items()} for row in rows
                )
    for table, (model, with_pk) in TABLES.items():
        if rendered:
            copy_lines(model, per_table[table], with_pk=with_pk)
        else:
            rows_insert(model, per_table[table], now=now)
    return [CreatedRecord(r, p, k) for k, p, r in zip(keys, party_ids, record_ids, strict=True)]


@transaction.atomic
def parties_create_from_rows(
    *,
    source: SourceSystem,
    records: Sequence[NewRecord],
    seen_at: datetime | None = None,
    job: ImportJob | None = None,
    actor: Any = None,
) -> list[CreatedRecord]:
    """Create one new party per row, with its source record, contact points, identifier and
    data-quality issues.

    Rows must have distinct source keys not yet known in ``source`` (the caller decides which
    rows are new). Everything is written in bulk inside one transaction: all or nothing.
    """
    seen_at = seen_at or timezone.now()
    job_id = job.pk if job else None
    plans = [
        plan_render(record_plan(item, source=source, job_id=job_id, seen_at=seen_at), now=seen_at)
        for item in records
    ]
    created = plans_write([item.row.source_key for item in records], plans, now=seen_at)
    outbox.parties_created_events(
        party_ids=[c.party_id for c in created],
        actor=actor or (f"import #{job.pk}" if job else None),
        source_id=source.pk,
    )
    return created
