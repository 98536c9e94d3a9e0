"""Benchmark: the search box (a name with two typos, an email, a phone number written the
national way) and the party 360 page of a party with 1,000 touch points, by server time.

Needs a database full of parties (DATABASE_URL, e.g. the 1,000,000-party PostgreSQL database
that ``bench/import_bench.py --rows 1000000`` leaves behind). Gives ``--engagements`` touch
points (orders, returns, visits, surveys, …) to each of ``--parties`` parties first (once:
they are reused on later runs), then measures p50/p95 ms through Django's test client (no
network; DEBUG off, as in production), signed in as a data steward.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/party360_bench.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import time
from datetime import timedelta
from decimal import Decimal

from benchlib import django_env_setup, timing_line

django_env_setup()

_TYPES = ["order"] * 4 + [
    "return",
    "web_visit",
    "web_visit",
    "case",
    "email_interaction",
    "survey_response",
    "event_attendance",
]


def _timed(client, url: str, expect: str = "", **params) -> float:
    started = time.perf_counter()
    response = client.get(url, params, HTTP_HOST="localhost")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    if expect and expect not in response.content.decode():
        raise SystemExit(f"{url} {params}: {expect!r} not in the page")
    return elapsed


def _typo(name: str, rng: random.Random, words: int) -> str:
    """Swap two neighbouring letters (not the first) in each of the first ``words`` words of
    four letters or more: "John Smith" → "Jonh Smtih"."""
    parts = name.split()
    for i, word in enumerate(parts[:words]):
        if len(word) >= 4:
            j = rng.randrange(1, len(word) - 2)
            parts[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(parts)


def _search_by_name(client, sample, rng, words: int) -> tuple[list[float], int]:
    """Times, and how many of the misspelled names had the right name among the hits (common
    names repeat among a million people: the name, not the one party, must be found)."""
    from django.utils.html import escape

    times, found = [], 0
    for _, name in sample:
        started = time.perf_counter()
        response = client.get("/parties/search/", {"q": _typo(name, rng, words)}, HTTP_HOST="localhost")
        times.append((time.perf_counter() - started) * 1000)
        found += f">{escape(name)}</a>" in response.content.decode()
    return times, found


def _engagements_give(party_ids: list[int], per_party: int) -> None:
    from django.utils import timezone

    from parties.models import Engagement

    have = set(
        Engagement.objects.filter(party_id__in=party_ids, external_id__startswith="BENCH-")
        .values_list("party_id", flat=True)
        .distinct()
    )
    rng, now = random.Random(5), timezone.now()
    for party_id in party_ids:
        if party_id in have:
            continue
        rows = []
        for n in range(per_party):
            kind = rng.choice(_TYPES)
            rows.append(
                Engagement(
                    party_id=party_id,
                    engagement_type=kind,
                    external_id=f"BENCH-{party_id}-{n}",
                    channel=rng.choice(["web", "store", "email"]),
                    status="delivered" if kind == "order" else "",
                    occurred_at=now - timedelta(hours=rng.randrange(1, 24 * 365 * 5)),
                    amount=Decimal(rng.randrange(500, 50000)) / 100 if kind in ("order", "return") else None,
                    currency="EUR" if kind in ("order", "return") else "",
                    nps_score=rng.randrange(0, 11) if kind == "survey_response" else None,
                    attributes={"items": rng.randrange(1, 6)} if kind == "order" else {},
                )
            )
        Engagement.objects.bulk_create(rows, batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--parties", type=int, default=20, help="parties given touch points")
    parser.add_argument("--engagements", type=int, default=1000, help="touch points per such party")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client

    from c360.kernel.roles import DATA_STEWARD
    from parties.models import ContactPointEmail, ContactPointPhone, Party

    user, _ = get_user_model().objects.get_or_create(username="bench-steward")
    user.groups.set([Group.objects.get(name=DATA_STEWARD)])
    client = Client()
    client.force_login(user)
    rng = random.Random(11)
    top = Party.objects.order_by("-pk").values_list("pk", flat=True).first()
    print(
        f"machine   : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}"
    )
    print(f"parties   : {Party.objects.count():,}")

    sample = list(
        Party.objects.filter(
            pk__in=[rng.randrange(1, top + 1) for _ in range(args.requests * 3)], status="active"
        )
        .exclude(display_name="")
        .values_list("pk", "display_name")
    )[: args.requests]
    _timed(client, "/parties/search/", q="warm up")
    for words, label in ((1, "search: name with one typo"), (2, "search: name with a typo in each word")):
        times, found = _search_by_name(client, sample, rng, words)
        timing_line(label, times)
        print(f"{'':<50}  found {found} of {len(sample)} ({found / len(sample):.0%})")
    emails = list(
        ContactPointEmail.objects.filter(party_id__in=[pk for pk, _ in sample]).values_list(
            "party_id", "normalized"
        )
    )[: args.requests]
    timing_line(
        "search: email (upper case)",
        [_timed(client, "/parties/search/", expect=f"/parties/{pk}/", q=e.upper()) for pk, e in emails],
    )
    phones = list(
        ContactPointPhone.objects.filter(party_id__in=[pk for pk, _ in sample]).values_list(
            "party_id", "normalized"
        )
    )[: args.requests]
    national = [(pk, "0" + p[-10:-7] + " " + p[-7:]) for pk, p in phones]  # e.g. 020 7952 5917
    timing_line(
        "search: phone (national form, spaces)",
        [_timed(client, "/parties/search/", expect=f"/parties/{pk}/", q=p) for pk, p in national],
    )

    busy = [pk for pk, _ in sample[: args.parties]]
    started = time.perf_counter()
    _engagements_give(busy, args.engagements)
    print(
        f"touch points: {args.engagements:,} each for {len(busy)} parties "
        f"(ready in {time.perf_counter() - started:,.1f} s)"
    )
    pages = [busy[i % len(busy)] for i in range(args.requests)]
    timing_line(
        f"party page, {args.engagements:,} touch points",
        [_timed(client, f"/parties/{pk}/", expect='data-testid="timeline"') for pk in pages],
    )
    timing_line(
        "party page, timeline filtered to orders, page 3",
        [_timed(client, f"/parties/{pk}/", type="order", page="3") for pk in pages],
    )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
