"""Benchmark: the REST API at scale — party retrieve, 100-item list pages (plain and filtered)
and a full cursor sync of every party, authenticated with an API token.

Needs a database full of parties (DATABASE_URL, e.g. the 1,000,000-party PostgreSQL database
that ``bench/import_bench.py --rows 1000000`` leaves behind). Measures server time through
Django's test client (no network; as served in production: DEBUG off), p50/p95 ms per request,
and the sync's parties per second with pages of ``--sync-page`` parties.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/api_bench.py [--requests 300] [--sync-page 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import time

from benchlib import django_env_setup, timing_line

django_env_setup()
os.environ.setdefault("C360_API_RATE", "100000000/minute")


def _timed(client, url: str, **params) -> float:
    started = time.perf_counter()
    response = client.get(url, params, HTTP_HOST="localhost")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sync-page", type=int, default=1000)
    parser.add_argument("--no-sync", action="store_true")
    parser.add_argument(
        "--seed",
        type=int,
        default=3,
        help="which random parties are read: change it so a rerun does not hit a warm cache",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from c360.api_tokens import api_token_create
    from c360.models import ApiToken
    from parties.models import ContactPointEmail, ContactPointPhone, Party

    ApiToken.objects.filter(name="api-bench").delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="api:api-bench").delete()
    _, key = api_token_create(name="api-bench", role="Data steward")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    rng = random.Random(args.seed)
    parties = Party.objects.count()
    top = Party.objects.order_by("-pk").values_list("pk", flat=True).first()
    print(
        f"machine   : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}"
    )
    print(f"parties   : {parties:,}")

    _timed(client, "/api/v1/parties/")  # warm up: imports, templates, connection
    ids = [rng.randrange(1, top + 1) for _ in range(args.requests * 3)]
    existing = list(Party.objects.filter(pk__in=ids).values_list("pk", flat=True))[: args.requests]
    timing_line(
        "party retrieve (GET /parties/{id}/)", [_timed(client, f"/api/v1/parties/{pk}/") for pk in existing]
    )

    pages, url = [], "/api/v1/parties/"
    for _ in range(args.requests):  # walk forward page after page, as a client would
        started = time.perf_counter()
        body = client.get(url, HTTP_HOST="localhost").json()
        pages.append((time.perf_counter() - started) * 1000)
        url = body["next"] or "/api/v1/parties/"
    timing_line("list page of 100 (cursor, walking forward)", pages)

    emails = list(
        ContactPointEmail.objects.filter(
            pk__in=[rng.randrange(1, top) for _ in range(args.requests * 2)]
        ).values_list("normalized", flat=True)
    )[: args.requests // 3]
    timing_line(
        "list filtered by email", [_timed(client, "/api/v1/parties/", email=e.upper()) for e in emails]
    )
    phones = list(
        ContactPointPhone.objects.filter(
            pk__in=[rng.randrange(1, top) for _ in range(args.requests * 2)]
        ).values_list("raw_value", flat=True)
    )[: args.requests // 3]
    timing_line(
        "list filtered by phone (as written)", [_timed(client, "/api/v1/parties/", phone=p) for p in phones]
    )
    national = ["0" + "".join(c for c in p if c.isdigit())[-10:] for p in phones]  # e.g. 020 7952 5917
    timing_line(
        "list filtered by phone (national form)",
        [_timed(client, "/api/v1/parties/", phone=p) for p in national],
    )
    timing_line(
        "list filtered by updated_since (last hour)",
        [_timed(client, "/api/v1/parties/", updated_since="2100-01-01T00:00:00Z") for _ in range(50)],
    )

    if not args.no_sync:
        seen, url, started = 0, f"/api/v1/parties/?page_size={args.sync_page}", time.perf_counter()
        while url:
            body = client.get(url, HTTP_HOST="localhost").json()
            seen += len(body["results"])
            url = body["next"]
        seconds = time.perf_counter() - started
        print(
            f"full sync : {seen:,} parties in {seconds:,.1f} s = {seen / seconds:,.0f} parties/s "
            f"(pages of {args.sync_page})"
        )
        if seen != Party.objects.count():
            raise SystemExit(f"the sync saw {seen:,} parties of {Party.objects.count():,}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
