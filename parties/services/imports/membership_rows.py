"""The "memberships" file kind: loyalty-program and subscription memberships of customers
already imported.

Each row names its customer (see ``party_refs``: source key, email or phone). A membership
is found again by (source system, program name, member number); a row without a member
number by (source system, customer, program name). So a file imported again creates nothing
new, updates the memberships whose values changed and leaves the others alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.utils import timezone

from parties.extensions import BatchResult, ImportKind
from parties.models import ImportJob, Membership, MembershipStatus, SourceSystem
from parties.services.imports.mapping import Columns
from parties.services.imports.party_refs import (
    REFERENCE_COLUMNS,
    REFERENCE_SYNONYMS,
    RowError,
    batch_rows_read,
    choice_read,
    choice_words,
    date_read,
    integer_read,
    parties_touch,
    rows_touch,
    text_read,
)
from parties.services.imports.readers import RawRow

COLUMNS = (
    *REFERENCE_COLUMNS,
    "program_type",
    "program_name",
    "member_number",
    "tier",
    "status",
    "started_on",
    "ends_on",
    "points_balance",
)
SYNONYMS: dict[str, Sequence[str]] = {
    **REFERENCE_SYNONYMS,
    "program_type": ["program type", "programme type", "membership type", "type", "kind"],
    "program_name": [
        "program",
        "programme",
        "programme name",
        "club",
        "subscription",
        "subscription name",
        "membership",
        "plan name",
    ],
    "member_number": [
        "member id",
        "member no",
        "membership number",
        "membership id",
        "card number",
        "loyalty number",
        "subscription id",
        "member",
    ],
    "tier": ["level", "status level", "plan", "grade"],
    "status": ["state", "membership status"],
    "started_on": [
        "start",
        "start date",
        "started",
        "joined",
        "joined on",
        "member since",
        "enrolled on",
        "since",
        "valid from",
    ],
    "ends_on": [
        "end",
        "end date",
        "ends",
        "expires",
        "expires on",
        "expiry",
        "expiry date",
        "valid until",
        "valid to",
        "cancelled on",
    ],
    "points_balance": ["points", "balance", "point balance", "points balance"],
}
PROGRAM_WORDS = choice_words(
    Membership.ProgramType,
    {
        Membership.ProgramType.LOYALTY: [
            "loyalty programme",
            "rewards",
            "reward program",
            "club",
            "bonus program",
        ],
        Membership.ProgramType.SUBSCRIPTION: ["sub", "plan", "abo", "abonnement", "recurring"],
    },
)
STATUS_WORDS = choice_words(
    MembershipStatus,
    {
        MembershipStatus.ACTIVE: ["current", "enrolled", "live", "aktiv"],
        MembershipStatus.PAUSED: ["on hold", "suspended", "frozen"],
        MembershipStatus.CANCELLED: ["canceled", "terminated", "churned"],
        MembershipStatus.EXPIRED: ["lapsed", "ended"],
    },
)
VALUE_FIELDS = (
    "party_id",
    "source_record_id",
    "program_type",
    "tier",
    "status",
    "started_on",
    "ends_on",
    "points_balance",
)
INT_MAX = 2**31 - 1


def membership_values(row: Mapping[str, str], *, source: SourceSystem) -> dict:
    """A row's membership, without its customer; raises ``RowError`` naming the column."""
    program_name = text_read(row.get("program_name", ""), "program_name", max_length=100)
    if not program_name:
        raise RowError("program_name", "", "no program name")
    started_on = date_read(row.get("started_on", ""), "started_on", date_order=source.date_order)
    ends_on = date_read(row.get("ends_on", ""), "ends_on", date_order=source.date_order)
    if started_on and ends_on and ends_on < started_on:
        raise RowError("ends_on", row["ends_on"], f"ends before it started ({started_on:%Y-%m-%d})")
    status = row.get("status", "")
    return {
        "program_type": choice_read(
            row.get("program_type", ""), PROGRAM_WORDS, "program_type", "program type"
        ),
        "program_name": program_name,
        "member_number": text_read(row.get("member_number", ""), "member_number", max_length=64),
        "tier": text_read(row.get("tier", ""), "tier", max_length=32),
        # no status: the membership is active, as when it is created by hand
        "status": (
            choice_read(status, STATUS_WORDS, "status", "status") if status else MembershipStatus.ACTIVE
        ),
        "started_on": started_on,
        "ends_on": ends_on,
        "points_balance": integer_read(
            row.get("points_balance", ""), "points_balance", low=-INT_MAX - 1, high=INT_MAX
        ),
    }


def _key(values: dict) -> tuple:
    if values["member_number"]:
        return ("number", values["program_name"], values["member_number"])
    return ("party", values["party_id"], values["program_name"])


def _existing(source: SourceSystem, wanted: dict[tuple, tuple[int, dict]]) -> dict[tuple, Membership]:
    numbers = sorted({key[2] for key in wanted if key[0] == "number"})
    parties = sorted({key[1] for key in wanted if key[0] == "party"})
    found: dict[tuple, Membership] = {}
    for membership in Membership.objects.filter(source_system=source, member_number__in=numbers):
        found[("number", membership.program_name, membership.member_number)] = membership
    for membership in Membership.objects.filter(
        source_system=source, member_number="", party_id__in=parties
    ).order_by("pk"):
        found.setdefault(("party", membership.party_id, membership.program_name), membership)
    return found


def membership_batch_import(
    *,
    job: ImportJob,
    source: SourceSystem,
    rows: Sequence[RawRow],
    mapping: Columns,
    prepared=None,
) -> BatchResult:
    """Upsert one batch of memberships; runs inside the job's batch transaction, so a batch is
    written whole or not at all. A bad row is rejected with its line, column and reason."""
    now: datetime = timezone.now()
    batch = batch_rows_read(
        job=job,
        source=source,
        rows=rows,
        mapping=mapping,
        values_read=lambda row, raw: membership_values(row, source=source),
    )
    reject = batch.reject
    wanted: dict[tuple, tuple[int, dict]] = {}
    for line, row, values in batch.rows:
        key = _key(values)
        if key in wanted:
            column = "member_number" if key[0] == "number" else "program_name"
            reject(
                line,
                RowError(
                    column,
                    row.get(column, ""),
                    f"this membership already appeared at line {wanted[key][0]}; this row was not imported",
                ),
            )
            continue
        wanted[key] = (line, values)

    existing = _existing(source, wanted)
    new: list[Membership] = []
    changed: list[Membership] = []
    unchanged: list[int] = []
    touched: set[int] = set()
    for key, (line, values) in wanted.items():
        current = existing.get(key)
        if current is None:
            new.append(Membership(source_system=source, last_import_job_id=job.pk, **values))
            touched.add(values["party_id"])
        elif current.last_import_job_id == job.pk:
            column = "member_number" if key[0] == "number" else "program_name"
            reject(
                line,
                RowError(
                    column,
                    values[column],
                    "this membership already appeared earlier in this file; this row was not imported",
                ),
            )
        elif all(getattr(current, name) == values[name] for name in VALUE_FIELDS):
            unchanged.append(current.pk)
        else:
            touched.update({current.party_id, values["party_id"]})
            for name in VALUE_FIELDS:
                setattr(current, name, values[name])
            current.last_import_job_id, current.updated_at = job.pk, now
            changed.append(current)
    # The API's party document lists memberships: clients syncing by updated_since must see it.
    # First, in primary-key order: parties are locked before the rows that hang off them (a
    # merge moving these memberships holds the parties and waits for the rows).
    parties_touch(touched, now=now)
    Membership.objects.bulk_create(new)
    Membership.objects.bulk_update(
        changed, [*VALUE_FIELDS, "last_import_job_id", "updated_at"], batch_size=500
    )
    rows_touch(Membership, unchanged, job_id=job.pk)
    rejected = batch.rejections_save()
    # Matching does not compare memberships: no party needs re-matching.
    return BatchResult(
        created=len(new),
        updated=len(changed),
        unchanged=len(unchanged),
        rejected=rejected,
        changed_party_ids=(),
    )


MEMBERSHIPS_KIND = ImportKind(
    name="memberships",
    label="Memberships (loyalty and subscriptions)",
    columns=COLUMNS,
    required=("program_type", "program_name"),
    synonyms=SYNONYMS,
    handle_batch=membership_batch_import,
    description="One row per loyalty-program or subscription membership: the customer (source key, "
    "or email or phone), program type and name, member number, tier, status, start and "
    "end dates, points balance.",
    example_path="parties/examples/memberships.csv",
    # Like customer files and touch points: whoever may add memberships (today the
    # administrators) may import them.
    permission="parties.add_membership",
    extra={"required_any": (("source_key", "email", "phone"),)},
)

__all__ = ["MEMBERSHIPS_KIND", "membership_batch_import", "membership_values"]
