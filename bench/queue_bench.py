"""Benchmark: the merge queue at scale — queue page, review page, and merging 3-party clusters.

Needs a database full of parties (DATABASE_URL, e.g. the 1,000,000-party PostgreSQL database
that ``bench/seed_demo_bench.py --parties 720000`` builds). Tops the pending suggestions up to
``--suggestions`` (clusters of 2 or 3 consecutive active parties, written like a match run
writes them: evidence from the parties' records, queue facets), then measures server time
through Django's test client (no network, no browser): p50/p95 ms per page, and the time of
``--merges`` merges of 3-party suggestions (each undone afterwards, so the data stays as it was).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_bench \\
        .venv/bin/python bench/queue_bench.py [--suggestions 100000] [--requests 200] [--merges 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

from benchlib import django_env_setup, timing_line

django_env_setup()


def suggestions_top_up(target: int) -> int:
    from django.db import transaction
    from django.utils import timezone

    from matching.models import MatchRun, MatchSuggestion, MatchSuggestionMember, RunStatus
    from matching.selectors import party_records
    from matching.services.facets import suggestion_facets
    from matching.services.suggestions import evidence_of
    from parties.models import Party
    from parties.services.bulk_writer import ids_allocate, rows_insert

    pending = MatchSuggestion.objects.filter(status="pending").count()
    if pending >= target:
        return 0
    run = MatchRun.objects.create(status=RunStatus.SUCCEEDED, full=False, finished_at=timezone.now())
    taken = set(
        MatchSuggestionMember.objects.filter(suggestion__status="pending").values_list("party_id", flat=True)
    )
    rng, made, after, now = random.Random(5), 0, 0, timezone.now()
    while made < target - pending:
        ids = [
            pid
            for pid in Party.objects.active()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:6000]
            if pid not in taken
        ]
        if not ids:
            break
        after = ids[-1]
        clusters, i = [], 0
        while i + 3 <= len(ids) and len(clusters) < target - pending - made:
            size = 3 if rng.random() < 0.3 else 2
            clusters.append(ids[i : i + size])
            i += size + rng.randint(0, 4)  # leave gaps: not every party is in the queue
        records = party_records([pid for c in clusters for pid in c])
        clusters = [c for c in clusters if all(pid in records for pid in c)]
        evidences = [evidence_of(records, c) for c in clusters]
        scores = [round(rng.uniform(0.5, 1.0), 3) for _ in clusters]
        with transaction.atomic():
            pks = ids_allocate(MatchSuggestion, len(clusters))
            rows_insert(
                MatchSuggestion,
                [
                    {"id": pk, "run_id": run.pk, "score": score, "evidence": evidence, **facets}
                    for pk, score, evidence, facets in zip(
                        pks, scores, evidences, suggestion_facets(clusters, evidences), strict=True
                    )
                ],
                now=now,
            )
            rows_insert(
                MatchSuggestionMember,
                [
                    {"suggestion_id": pk, "party_id": pid, "score": score}
                    for pk, cluster, score in zip(pks, clusters, scores, strict=True)
                    for pid in cluster
                ],
                now=now,
            )
        made += len(clusters)
        print(f"  … {pending + made:,} pending suggestions", end="\r", flush=True)
    print()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--merges", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from matching.models import MatchSuggestion
    from parties import extensions
    from parties.models import Party
    from parties.services.merge import party_unmerge
    from parties.services.users import demo_users_ensure

    extensions._parties_changed_hooks.clear()  # no re-matching while we measure the queue
    demo_users_ensure()
    started = time.perf_counter()
    made = suggestions_top_up(args.suggestions)
    if made:
        print(f"wrote {made:,} suggestions in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":  # what autovacuum does after a bulk load
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE matching_matchsuggestion")
            cursor.execute("VACUUM ANALYZE matching_matchsuggestionmember")

    from django.contrib.auth import get_user_model

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="steward"))
    pending = list(MatchSuggestion.objects.filter(status="pending").values_list("pk", flat=True))
    rng = random.Random(7)
    queue = reverse("matching:suggestions")
    pages = {
        "queue, best score first": lambda: queue,
        "queue, risk order": lambda: queue + "?order=risk",
        "queue, page 500": lambda: queue + "?page=500",
        "queue, country + score filter": lambda: queue + "?country=DE&score_min=0.8",
        "queue, search by name": lambda: queue + "?q=" + rng.choice(["schmidt", "miller", "garcia", "rossi"]),
        "review page": lambda: reverse("matching:review", args=[rng.choice(pending)]),
    }
    for name, url in pages.items():
        client.get(url())  # warm up
        times = []
        for _ in range(args.requests if name == "review page" else max(20, args.requests // 4)):
            target = url()
            t = time.perf_counter()
            response = client.get(target)
            times.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{target} answered {response.status_code}")
        timing_line(name, times)

    from matching.services.review import suggestion_merge

    threes = list(
        MatchSuggestion.objects.filter(status="pending", size=3).values_list("pk", flat=True)[: args.merges]
    )
    merge_ms, decide_ms, events = [], [], []
    user = get_user_model().objects.get(username="steward")
    for pk in threes:
        t = time.perf_counter()
        result = suggestion_merge(suggestion_id=pk, user=user)
        merge_ms.append((time.perf_counter() - t) * 1000)
        events.append(result.event.pk)
    timing_line("merge of a 3-party suggestion", merge_ms)
    # a steward's key press: POST the decision, follow the redirect to the next review page
    twos = list(MatchSuggestion.objects.filter(status="pending", size=2).values_list("pk", flat=True)[:20])
    for pk in twos:
        t = time.perf_counter()
        response = client.post(reverse("matching:review_decide", args=[pk]), {"action": "merge"}, follow=True)
        decide_ms.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"deciding #{pk} answered {response.status_code}")
    timing_line("merge key press → next review page (2 parties)", decide_ms)
    from parties.models import PartyEvent

    events += list(
        PartyEvent.objects.filter(
            kind="merge", suggestion_id__isnull=False, reverted_by__isnull=True
        ).values_list("pk", flat=True)
    )
    for event_id in sorted(set(events), reverse=True):
        party_unmerge(event_id=event_id)
    MatchSuggestion.objects.filter(pk__in=threes + twos).update(
        status="pending", decided_at=None, decided_by=None
    )
    print(f"machine      : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"database     : {connection.vendor}, {Party.objects.count():,} parties, "
        f"{MatchSuggestion.objects.filter(status='pending').count():,} pending suggestions"
    )


if __name__ == "__main__":
    main()
