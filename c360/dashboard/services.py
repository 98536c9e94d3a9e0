"""Refreshing the dashboard's aggregated figures.

Everything here is a full scan of parties, contact points, source records or consents (a
few seconds at 1,000,000 parties on PostgreSQL), so it runs in a Celery beat task, after
imports, and on an administrator's "Refresh now" — never while a page is served. Each query
groups a whole table once (``GROUP BY party_id`` / ``GROUP BY source_record``) and joins the
groups: per-row EXISTS subqueries in a select list would be one index probe per party each.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from c360.dashboard.models import (
    AttributeFigure,
    ConsentFigure,
    DashboardSnapshot,
    QualityIssueFigure,
    SourceFigure,
)
from consents.models import ContactPointTypeConsent
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    DataQualityIssue,
    Party,
    PartyKind,
    PartyStatus,
    SourceRecord,
    Validity,
)

logger = logging.getLogger(__name__)

ATTRIBUTES = ("email", "phone", "address", "birth_date")
REFRESH_SOON_KEY = "c360:dashboard-refresh-queued"
REFRESH_SOON_SECONDS = 120

GOOD = f"('{Validity.VALID}', '{Validity.VERIFIED}')"
# What counts as a valid value of each contact point (a complete one is any active value):
# an email that passed the syntax check, a phone in E.164 form that is valid for its
# country, an address with street, postal code, city and country.
_OK = {
    "email": f"c.validity IN {GOOD}",
    "phone": f"c.validity IN {GOOD} AND c.normalized LIKE '+%%'",
    "address": (
        f"c.validity <> '{Validity.INVALID}' AND c.line1 <> '' AND c.postal_code <> '' "
        "AND c.city <> '' AND c.country <> ''"
    ),
}
_MODELS = {"email": ContactPointEmail, "phone": ContactPointPhone, "address": ContactPointAddress}


def _by_party(kind: str) -> str:
    """Per party: 1 row if it has an active contact point of the kind, ok=1 if a valid one."""
    table = _MODELS[kind]._meta.db_table
    return (
        f"(SELECT c.party_id AS party_id, MAX(CASE WHEN {_OK[kind]} THEN 1 ELSE 0 END) AS ok "  # noqa: S608
        f"FROM {table} c WHERE c.is_active GROUP BY c.party_id)"
    )


def _by_record(kind: str) -> str:
    """Per source record: 1 row if it reported an active contact point of the kind (as the
    first reporter or a later one), ok=1 if a valid one."""
    model = _MODELS[kind]
    table = model._meta.db_table
    through = model.other_source_records.through
    point_column = f"{model._meta.model_name}_id"
    return (
        f"(SELECT x.rid AS rid, MAX(x.ok) AS ok FROM ("  # noqa: S608 (names and conditions from here)
        f"SELECT c.source_record_id AS rid, CASE WHEN {_OK[kind]} THEN 1 ELSE 0 END AS ok "
        f"FROM {table} c WHERE c.is_active AND c.source_record_id IS NOT NULL "
        f"UNION ALL SELECT t.sourcerecord_id, CASE WHEN {_OK[kind]} THEN 1 ELSE 0 END "
        f"FROM {through._meta.db_table} t JOIN {table} c ON c.id = t.{point_column} WHERE c.is_active"
        f") x GROUP BY x.rid)"
    )


def _json_text(column: str, *path: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} #>> '{{{','.join(path)}}}')"
    return f"json_extract({column}, '$.{'.'.join(path)}')"


def _party_figures() -> dict:
    party = Party._meta.db_table
    sql = f"""
        SELECT COUNT(*),
               SUM(CASE WHEN p.erased_at IS NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.kind = %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.kind = %s AND p.birth_date IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN e.party_id IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(e.ok, 0)),
               SUM(CASE WHEN ph.party_id IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(ph.ok, 0)),
               SUM(CASE WHEN a.party_id IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(a.ok, 0)),
               SUM(CASE WHEN e.party_id IS NULL AND ph.party_id IS NULL AND a.party_id IS NULL
                        THEN 1 ELSE 0 END)
        FROM {party} p
        LEFT JOIN {_by_party("email")} e ON e.party_id = p.id
        LEFT JOIN {_by_party("phone")} ph ON ph.party_id = p.id
        LEFT JOIN {_by_party("address")} a ON a.party_id = p.id
        WHERE p.status = %s"""  # noqa: S608 (names and conditions from this module, no input)
    with connection.cursor() as cursor:
        cursor.execute(sql, [PartyKind.INDIVIDUAL, PartyKind.INDIVIDUAL, PartyStatus.ACTIVE])
        row = [int(v or 0) for v in cursor.fetchone()]
    (
        active,
        not_erased,
        individuals,
        births,
        email,
        email_ok,
        phone,
        phone_ok,
        address,
        address_ok,
        unreachable,
    ) = row
    return {
        "active": active,
        "not_erased": not_erased,
        "individuals": individuals,
        "unreachable": unreachable,
        "attributes": {
            "email": (active, email, email_ok),
            "phone": (active, phone, phone_ok),
            "address": (active, address, address_ok),
            "birth_date": (individuals, births, births),
        },
    }


def _source_figures() -> dict[int, dict]:
    """Per source system: records, parties, and per attribute what its records delivered."""
    records = SourceRecord._meta.db_table
    kind = _json_text("r.standardized", "kind")
    birth = _json_text("r.standardized", "attributes", "birth_date")
    sql = f"""
        SELECT r.source_system_id, COUNT(*), COUNT(DISTINCT r.party_id),
               SUM(CASE WHEN e.rid IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(e.ok, 0)),
               SUM(CASE WHEN ph.rid IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(ph.ok, 0)),
               SUM(CASE WHEN a.rid IS NOT NULL THEN 1 ELSE 0 END), SUM(COALESCE(a.ok, 0)),
               SUM(CASE WHEN COALESCE({kind}, %s) = %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN COALESCE({kind}, %s) = %s AND COALESCE({birth}, '') <> '' THEN 1 ELSE 0 END)
        FROM {records} r
        LEFT JOIN {_by_record("email")} e ON e.rid = r.id
        LEFT JOIN {_by_record("phone")} ph ON ph.rid = r.id
        LEFT JOIN {_by_record("address")} a ON a.rid = r.id
        GROUP BY r.source_system_id"""  # noqa: S608 (names and conditions from this module, no input)
    individual = PartyKind.INDIVIDUAL
    with connection.cursor() as cursor:
        cursor.execute(sql, [individual, individual, individual, individual])
        rows = cursor.fetchall()
    figures = {}
    for source_id, *values in rows:
        (n, parties, email, email_ok, phone, phone_ok, address, address_ok, individuals, births) = (
            int(v or 0) for v in values
        )
        figures[source_id] = {
            "records": n,
            "parties": parties,
            "attributes": {
                "email": (n, email, email_ok),
                "phone": (n, phone, phone_ok),
                "address": (n, address, address_ok),
                "birth_date": (individuals, births, births),
            },
        }
    return figures


_QUOTED = re.compile(r"""\s*['"«(].*$""")


def reason_kind(reason: str) -> str:
    """A data-quality issue's reason without the offending value or the library's detail:
    "unknown country 'Xy'" → "unknown country", "invalid email: The domain …" → "invalid
    email". Every reason starts with its kind, so ``reason__startswith`` finds them again."""
    kind = _QUOTED.sub("", reason.split(":", 1)[0]).strip()
    return (kind or reason.strip() or "unspecified")[:200]


def _issue_figures() -> Counter:
    counts: Counter = Counter()
    rows = DataQualityIssue.objects.order_by().values_list("field", "reason").annotate(n=Count("pk"))
    for field, reason, n in rows.iterator():
        counts[(field, reason_kind(reason))] += n
    return counts


def _consent_figures() -> dict[tuple[str, int], Counter]:
    now = timezone.now()
    in_effect = (Q(effective_from__isnull=True) | Q(effective_from__lte=now)) & (
        Q(effective_to__isnull=True) | Q(effective_to__gte=now)
    )
    rows = (
        ContactPointTypeConsent.objects.order_by()
        .filter(in_effect, party__status=PartyStatus.ACTIVE, party__erased_at__isnull=True)
        .values_list("channel", "purpose_id", "status")
        .annotate(n=Count("pk"))
    )
    figures: dict[tuple[str, int], Counter] = {}
    for channel, purpose_id, status, n in rows:
        figures.setdefault((channel, purpose_id), Counter())[status] += n
    return figures


def dashboard_refresh() -> DashboardSnapshot:
    """Compute every aggregated figure and replace the previous snapshot with them in one
    transaction, so the page never shows half of one refresh and half of another. Safe to
    run twice at once: the later one simply wins."""
    from consents.models import Channel, DataUsePurpose

    started_at, clock = timezone.now(), time.perf_counter()
    parties = _party_figures()
    merged = Party.objects.filter(status=PartyStatus.MERGED).count()
    sources = _source_figures()
    issues = _issue_figures()
    consents = _consent_figures()
    purposes = list(DataUsePurpose.objects.filter(is_active=True).values_list("pk", flat=True))
    invalid_emails = ContactPointEmail.objects.filter(validity=Validity.INVALID, is_active=True).count()
    invalid_phones = ContactPointPhone.objects.filter(validity=Validity.INVALID, is_active=True).count()

    with transaction.atomic():
        snapshot = DashboardSnapshot.objects.create(
            started_at=started_at,
            computed_at=timezone.now(),
            duration_ms=int((time.perf_counter() - clock) * 1000),
            parties_active=parties["active"],
            parties_merged=merged,
            individuals_active=parties["individuals"],
            source_records=sum(s["records"] for s in sources.values()),
            quality_issues=sum(issues.values()),
            invalid_emails=invalid_emails,
            invalid_phones=invalid_phones,
            unreachable_parties=parties["unreachable"],
        )
        SourceFigure.objects.bulk_create(
            SourceFigure(
                snapshot=snapshot, source_system_id=source_id, records=s["records"], parties=s["parties"]
            )
            for source_id, s in sources.items()
        )
        attributes = [(None, parties["attributes"])] + [(sid, s["attributes"]) for sid, s in sources.items()]
        AttributeFigure.objects.bulk_create(
            AttributeFigure(
                snapshot=snapshot,
                source_system_id=source_id,
                attribute=name,
                population=population,
                complete=complete,
                valid=valid,
            )
            for source_id, figures in attributes
            for name, (population, complete, valid) in figures.items()
        )
        QualityIssueFigure.objects.bulk_create(
            QualityIssueFigure(snapshot=snapshot, field=field[:64], reason=reason, count=n)
            for (field, reason), n in issues.items()
        )
        ConsentFigure.objects.bulk_create(
            ConsentFigure(
                snapshot=snapshot,
                channel=channel,
                purpose_id=purpose_id,
                parties=parties["not_erased"],
                opt_in=counts["opt_in"],
                opt_out=counts["opt_out"],
                seen=counts["seen"],
            )
            for purpose_id in purposes
            for channel in Channel.values
            for counts in [consents.get((channel, purpose_id), Counter())]
        )
        DashboardSnapshot.objects.exclude(pk=snapshot.pk).delete()
    logger.info("dashboard figures refreshed in %d ms", snapshot.duration_ms)
    return snapshot


def dashboard_refresh_soon() -> bool:
    """Enqueue one refresh in a while, unless one is already waiting: imports notify after
    every batch they commit, and one refresh after the last batch is what matters."""
    if not cache.add(REFRESH_SOON_KEY, 1, timeout=REFRESH_SOON_SECONDS):
        return False
    from c360.dashboard.tasks import dashboard_refresh_task

    dashboard_refresh_task.apply_async(countdown=REFRESH_SOON_SECONDS)
    return True


REFRESH_NOW_KEY = "c360:dashboard-refresh-asked"


def dashboard_refresh_now() -> bool:
    """Enqueue one refresh now (the page's *Refresh* button), unless one asked for is still
    waiting for a worker: each click queued a full recomputation. Returns whether one was
    queued."""
    if not cache.add(REFRESH_NOW_KEY, 1, timeout=REFRESH_SOON_SECONDS * 5):
        return False
    from c360.dashboard.tasks import dashboard_refresh_task

    dashboard_refresh_task.delay()
    return True


def parties_changed_dashboard_hook(party_ids, reason: str) -> None:
    """Registered with parties' extension point: after an import's batches, refresh soon."""
    if reason == "import":
        dashboard_refresh_soon()
