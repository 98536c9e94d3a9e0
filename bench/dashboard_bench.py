"""Benchmark: the data-quality dashboard at scale — the home page as a steward, an
administrator and marketing (p50/p95 server time), the data-quality issue list, and the
aggregate refresh the Celery beat task runs.

Needs PostgreSQL. Unless the database already holds ``--parties`` parties, it generates them
in SQL (a few minutes for 1,000,000): four source systems, 1.25 source records per party, an
email for 90 % of parties (4 % invalid), a phone for 85 % (some not in E.164), an address for
80 % (some incomplete), data-quality issues, email/SMS consents for three purposes, and a
month of suggestions, steward decisions and merges. Server time is measured through Django's
test client (no network; DEBUG off, as served in production).

    .venv/bin/python bench/dashboard_bench.py \\
        --database-url postgres://postgres@127.0.0.1:5432/c360_dash_bench [--parties 1000000] [--requests 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from benchlib import django_env_setup, timing_line

django_env_setup()


def _insert(cursor, model, select_from: str, values: dict[str, str]) -> None:
    """INSERT … SELECT with every NOT NULL column filled: ``values`` gives SQL per column,
    the others get their field's default (Django sets no database defaults)."""
    from django.db import models
    from django.utils import timezone

    columns, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.column not in values:
            continue
        columns.append(f'"{f.column}"')
        if f.column in values:
            exprs.append(values[f.column])
        elif f.null:
            exprs.append("NULL")
        elif isinstance(f, models.DateTimeField):
            exprs.append(f"'{timezone.now().isoformat()}'::timestamptz")
        elif isinstance(f, models.BooleanField):
            exprs.append("TRUE" if f.get_default() else "FALSE")
        elif isinstance(f, models.JSONField):
            exprs.append(f"'{'[]' if f.get_default() == [] else '{}'}'::jsonb")
        elif isinstance(f, (models.IntegerField, models.FloatField)):
            exprs.append(str(f.get_default() or 0))
        else:
            exprs.append(f"'{f.get_default() or ''}'")
    cursor.execute(
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '  # noqa: S608
        f"SELECT {', '.join(exprs)} FROM {select_from}"
    )


def generate(n: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction

    from consents.models import ContactPointTypeConsent, DataUsePurpose
    from matching.models import MatchRun, MatchSuggestion
    from parties.models import (
        ContactPointAddress,
        ContactPointEmail,
        ContactPointPhone,
        DataQualityIssue,
        Party,
        PartyEvent,
        SourceRecord,
        SourceSystem,
    )

    started = time.perf_counter()
    with connection.cursor() as c:  # a clean schema, so the data migrations run again too
        c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", "--noinput", verbosity=0)
    sources = [
        SourceSystem.objects.create(name=name, kind=kind, trust_rank=rank)
        for name, kind, rank in [
            ("Salesforce CRM", "crm", 10),
            ("Web Shop", "ecommerce", 20),
            ("Store POS", "pos", 30),
            ("SAP ERP Billing", "erp", 40),
        ]
    ]
    stewards = []
    for name in ("sam", "kim", "lee"):
        user = get_user_model().objects.create_user(name, password="bench-only")  # noqa: S106
        user.groups.add(Group.objects.get(name="Data steward"))
        stewards.append(user.pk)
    s1, s4 = sources[0].pk, sources[3].pk
    with transaction.atomic(), connection.cursor() as c:
        series = f"generate_series(1, {n}) AS g"
        _insert(
            c,
            Party,
            series,
            {
                "id": "g",
                "kind": "CASE WHEN g % 10 = 0 THEN 'organization' ELSE 'individual' END",
                "display_name": "'Bench ' || g",
                "given_name": "'Bench'",
                "family_name": "'P' || g",
                "birth_date": "CASE WHEN g % 10 <> 0 AND g % 5 <> 1 THEN DATE '1950-01-01' + (g % 20000) END",
            },
        )
        # 1.25 records per party: every party in one source, every fourth in a second one
        records = (
            f"(SELECT g AS party, {s1} + (g % 4) AS src, g AS rid FROM generate_series(1, {n}) g "  # noqa: S608
            f"UNION ALL SELECT g, {s1} + ((g + 1) % 4), {n} + g FROM generate_series(4, {n}, 4) g) r"
        )
        _insert(
            c,
            SourceRecord,
            records,
            {
                "id": "r.rid",
                "source_system_id": "r.src",
                "source_key": "'K' || r.rid",
                "party_id": "r.party",
                "raw_payload": "'{}'::jsonb",
                "content_hash": "md5(r.rid::text)",
                "standardized": "jsonb_build_object('kind', CASE WHEN r.party % 10 = 0 THEN 'organization' "
                "ELSE 'individual' END, 'attributes', jsonb_build_object('birth_date', "
                f"CASE WHEN r.src = {s4} OR r.party % 5 = 1 THEN '' ELSE '1970-01-01' END))",
                "first_seen_at": "now()",
                "last_seen_at": "now()",
            },
        )
        _insert(
            c,
            ContactPointEmail,
            f"generate_series(1, {n}) AS g WHERE g % 10 <> 3",
            {
                "party_id": "g",
                "raw_value": "'p' || g || '@example.com'",
                "normalized": "'p' || g || '@example.com'",
                "validity": "CASE WHEN g % 25 = 0 THEN 'invalid' ELSE 'valid' END",
                "source_record_id": "g",
                "is_active": "TRUE",
                "is_primary": "TRUE",
            },
        )
        _insert(
            c,
            ContactPointPhone,
            f"generate_series(1, {n}) AS g WHERE g % 20 NOT IN (3, 7, 11)",
            {
                "party_id": "g",
                "raw_value": "'030 ' || g",
                "normalized": "CASE WHEN g % 30 = 0 THEN g::text ELSE '+4930' || lpad(g::text, 7, '0') END",
                "validity": "CASE WHEN g % 45 = 0 THEN 'invalid' ELSE 'valid' END",
                "source_record_id": "g",
                "is_active": "TRUE",
                "is_primary": "TRUE",
                "country": "'DE'",
            },
        )
        _insert(
            c,
            ContactPointAddress,
            f"generate_series(1, {n}) AS g WHERE g % 5 <> 2",
            {
                "party_id": "g",
                "raw_value": "'Street ' || g",
                "line1": "'Street ' || g",
                "postal_code": "CASE WHEN g % 17 = 0 THEN '' ELSE '10115' END",
                "city": "'Berlin'",
                "country": "'DE'",
                "normalized": "'street' || g",
                "validity": "'valid'",
                "source_record_id": "g",
                "is_active": "TRUE",
                "is_primary": "TRUE",
            },
        )
        _insert(
            c,
            DataQualityIssue,
            f"generate_series(1, {n}) AS g WHERE g % 20 = 0",
            {
                "source_record_id": "g",
                "field": "CASE WHEN g % 60 = 0 THEN 'country' ELSE 'phone' END",
                "value": "'x' || g",
                "created_at": "now()",
                "reason": "CASE WHEN g % 60 = 0 THEN 'unknown country ''X' || g || '''' "
                "ELSE 'not a valid phone number for its country' END",
            },
        )
        purposes = list(
            DataUsePurpose.objects.filter(code__in=["marketing", "newsletter", "profiling"]).values_list(
                "pk", flat=True
            )
        )
        for i, purpose in enumerate(purposes):
            for channel, every in (("email", 1), ("sms", 3)):
                _insert(
                    c,
                    ContactPointTypeConsent,
                    f"generate_series(1, {n}, {every}) AS g WHERE (g + {i}) % 5 <> 0",
                    {
                        "party_id": "g",
                        "channel": f"'{channel}'",
                        "purpose_id": str(purpose),
                        "status": f"CASE (g + {i}) % 7 WHEN 0 THEN 'opt_out' WHEN 1 THEN 'seen' "
                        "WHEN 2 THEN 'not_seen' ELSE 'opt_in' END",
                        "captured_at": "now()",
                        "capture_source": "'bench'",
                    },
                )
        run = MatchRun.objects.create(status="succeeded", phase="done")
        suggestions = max(1000, n // 50)
        _insert(
            c,
            MatchSuggestion,
            f"generate_series(1, {suggestions}) AS g",
            {
                "run_id": str(run.pk),
                "score": "0.5 + (g % 50) / 100.0",
                "status": "CASE WHEN g % 3 = 0 THEN 'pending' WHEN g % 3 = 1 THEN 'merged' "
                "ELSE 'rejected' END",
                "created_at": "now() - ((g % 30) || ' days')::interval",
                "decided_at": "CASE WHEN g % 3 <> 0 THEN now() - ((g % 28) || ' days')::interval END",
                "decided_by_id": f"CASE WHEN g % 3 <> 0 THEN (ARRAY{stewards})[1 + g % 3] END",
                "evidence": "'{}'::jsonb",
            },
        )
        _insert(
            c,
            PartyEvent,
            f"generate_series(1, {suggestions // 3}) AS g",
            {
                "kind": "CASE WHEN g % 5 = 0 THEN 'auto_merge' ELSE 'merge' END",
                "party_id": "g",
                "actor_label": "'bench'",
                "created_at": "now() - ((g % 30) || ' days')::interval",
                "before": "'{}'::jsonb",
                "after": "'{}'::jsonb",
                "changes": "'{}'::jsonb",
            },
        )
        for model in (
            Party,
            SourceRecord,
            ContactPointEmail,
            ContactPointPhone,
            ContactPointAddress,
            DataQualityIssue,
            ContactPointTypeConsent,
            MatchSuggestion,
            PartyEvent,
        ):
            c.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{model._meta.db_table}\"', 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 1) FROM "{model._meta.db_table}"))'
            )
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    print(f"generated : {n:,} parties in {time.perf_counter() - started:,.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--parties", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--refreshes", type=int, default=3)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url postgres://… is needed (the target is PostgreSQL)")
    os.environ["DATABASE_URL"] = args.database_url

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from c360.dashboard.services import dashboard_refresh
    from parties.models import Party

    call_command("migrate", "--noinput", verbosity=0)
    if Party.objects.count() < args.parties:
        generate(args.parties)
    from django.contrib.auth import get_user_model

    users = {}
    for role, group in (
        ("steward", "Data steward"),
        ("administrator", "Administrator"),
        ("marketing", "Marketing"),
    ):
        user, _ = get_user_model().objects.get_or_create(username=f"dash-bench-{role}")
        user.groups.add(django.contrib.auth.models.Group.objects.get(name=group))
        users[role] = user

    print(
        f"machine   : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor} {connection.cursor().connection.info.server_version}"
    )
    print(f"parties   : {Party.objects.count():,}")
    refresh_ms = []
    for _ in range(args.refreshes):
        started = time.perf_counter()
        snapshot = dashboard_refresh()
        refresh_ms.append((time.perf_counter() - started) * 1000)
    runs = ", ".join(f"{t / 1000:.1f} s" for t in refresh_ms)
    print(
        f"{'aggregate refresh (beat task)':<44}: {runs}   "
        f"({snapshot.source_records:,} records, {snapshot.quality_issues:,} issues)"
    )

    for role in ("steward", "administrator", "marketing"):
        client = Client()
        client.force_login(users[role])
        client.get("/", HTTP_HOST="localhost")  # warm up: imports, templates, connection
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get("/", HTTP_HOST="localhost")
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"home as {role}: {response.status_code}")
        timing_line(f"home page as {role}", times)
    client = Client()
    client.force_login(users["steward"])
    times = []
    for url in ["/dashboard/issues/", "/dashboard/issues/?field=phone&reason=not+a+valid+phone+number"] * 10:
        started = time.perf_counter()
        if client.get(url, HTTP_HOST="localhost").status_code != 200:
            raise SystemExit(f"{url}: not 200")
        times.append((time.perf_counter() - started) * 1000)
    timing_line("data-quality issue list (first page)", times)


if __name__ == "__main__":
    main()
