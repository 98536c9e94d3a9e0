"""Benchmark: match on entry — ``POST /api/v1/parties/match/`` at scale.

Needs a database of parties with an active matcher model and stored block keys. The recipe
for 1,000,000 parties on PostgreSQL (README: Performance, Matching):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_entrybench
    .venv/bin/python bench/seed_demo_bench.py --parties 720000 --truth var/bench/entry/truth-1m.csv
    .venv/bin/python bench/match_entry_bench.py --prepare --truth var/bench/entry/truth-1m.csv
    .venv/bin/python bench/match_entry_bench.py --requests 500 --seed 1

``--prepare`` draws 100 labels from the truth file (as ``bench/matching_speed.py
--write-labels`` does), trains the matcher on the database (``train_matcher``) unless a model
is active, then writes every party's block keys and stored flat record the way a full run's
fingerprinting does (``block_keys_clear``, ``block_keys_write``, ``blocks_prepare``), without
the run's scoring and clustering, which this benchmark does not read.

The requests go through Django's test client (no network; DEBUG off, as served) with a data
steward's API token: half are existing customers re-entered with a typo in a name, their
email written in capitals and the phone as stored, half are customers nobody has (random names
and addresses). Prints p50/p95/p99 per kind and overall, the matches' bands, and the load
average before and after. ``--create N`` adds N requests with ``create=true`` (an
administrator's token) and reports them apart: they write a party, its block keys and maybe a
suggestion; the parties they create are left in the database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import string
import sys
import time
from pathlib import Path

from benchlib import django_env_setup, percentile, timing_line

django_env_setup()
os.environ.setdefault("C360_API_RATE", "100000000/minute")

URL = "/api/v1/parties/match/"
GIVEN = ["Anna", "Lukas", "Marie", "Jonas", "Sofia", "Elias", "Mila", "Noah", "Lea", "Felix", "Clara", "Paul"]
FAMILY = [
    "Quennell",
    "Vortigern",
    "Ashdown",
    "Pellinore",
    "Ravensworth",
    "Yarborough",
    "Zouche",
    "Tregarthen",
]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text + "e"
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _prepare(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from matching.models import MatcherModel
    from matching.services.blocking import (
        block_keys_clear,
        block_keys_write,
        blocks_prepare,
        matcher_load,
        party_id_batches,
    )

    if not MatcherModel.objects.filter(is_active=True).exists():
        if not args.truth:
            sys.exit("--prepare without an active model needs --truth (the seeding's truth file)")
        labels = Path("var/bench/entry/labels-100.csv")
        started = time.perf_counter()
        import subprocess

        subprocess.run(
            [
                sys.executable,
                "bench/matching_speed.py",
                "--write-labels",
                str(labels),
                "--truth",
                str(args.truth),
            ],
            check=True,
        )
        call_command("import_labels", str(labels))
        call_command("train_matcher", "--sync")
        print(f"labels and training: {time.perf_counter() - started:.1f} s")
    model = MatcherModel.objects.get(is_active=True)
    matcher = matcher_load(model)
    started = time.perf_counter()
    block_keys_clear()
    parties = keys = 0
    for ids in party_id_batches(batch=10_000):
        done, written = block_keys_write(matcher, ids, fresh=True)
        parties, keys = parties + done, keys + written
        if parties % 100_000 < 10_000:
            print(f"  {parties:,} parties, {keys:,} keys, {time.perf_counter() - started:.0f} s", flush=True)
    oversized = blocks_prepare(full=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE matching_blockkey")
            cursor.execute("VACUUM ANALYZE matching_matchrecord")
    print(
        f"fingerprinting: {parties:,} parties, {keys:,} block keys, {oversized:,} oversized blocks in "
        f"{time.perf_counter() - started:.1f} s (model #{model.pk}: {model.labels_match}+"
        f"{model.labels_distinct} labels)"
    )


def _existing_candidates(count: int, rng: random.Random) -> list[dict]:
    """Existing individuals' source rows, re-entered with a typo in a name."""
    from parties.models import SourceRecord

    top = SourceRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picked: list[dict] = []
    tries = 0
    while len(picked) < count and tries < count * 20:
        tries += 1
        ids = [rng.randrange(1, top + 1) for _ in range(200)]
        for raw, party_id in SourceRecord.objects.filter(pk__in=ids).values_list("raw_payload", "party_id"):
            if len(picked) >= count:
                break
            if not (raw.get("given_name") and raw.get("family_name")):
                continue
            candidate = {
                k: str(v)
                for k, v in raw.items()
                if k
                in (
                    "given_name",
                    "family_name",
                    "birth_date",
                    "email",
                    "phone",
                    "address_line1",
                    "city",
                    "postal_code",
                    "country",
                )
                and v
            }
            field = rng.choice(["given_name", "family_name"])
            candidate[field] = _typo(candidate[field], rng)
            if "email" in candidate:
                candidate["email"] = candidate["email"].upper()
            picked.append({**candidate, "_party": party_id})
    return picked


def _fresh_candidate(rng: random.Random) -> dict:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY) + "".join(rng.choices(string.ascii_lowercase, k=3))
    return {
        "given_name": given,
        "family_name": family,
        "birth_date": f"19{rng.randrange(40, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "email": f"{given}.{family}{rng.randrange(100)}@example.net".lower(),
        "phone": f"+49 30 {rng.randrange(1000000, 9999999)}",
        "address_line1": f"{rng.choice(['Linden', 'Birken', 'Eichen'])}weg {rng.randrange(1, 200)}",
        "postal_code": f"{rng.randrange(10000, 99999)}",
        "city": "Berlin",
        "country": "DE",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="match requests (half existing, half new)")
    parser.add_argument("--create", type=int, default=0, help="create=true requests afterwards")
    parser.add_argument("--seed", type=int, default=1, help="which parties are re-entered")
    parser.add_argument("--prepare", action="store_true", help="train (if needed) and fingerprint, then exit")
    parser.add_argument("--truth", type=Path, default=None, help="the seeding's truth file (for --prepare)")
    parser.add_argument("--json", type=Path, default=None, help="write a JSON summary here")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from c360.api_tokens import api_token_create
    from c360.models import ApiToken
    from matching.models import BlockKey, MatcherModel
    from parties.models import Party, SourceSystem

    call_command("migrate", verbosity=0)  # a database seeded by an older version of the code
    if args.prepare:
        _prepare(args)
        return
    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None or not BlockKey.objects.exists():
        sys.exit("no active model or no block keys: run with --prepare first")

    def client_for(role: str) -> Client:
        name = f"entry-bench-{role.split()[0].lower()}"
        ApiToken.objects.filter(name=name).delete()
        get_user_model().objects.filter(username=f"api:{name}").delete()
        _, key = api_token_create(name=name, role=role)
        return Client(HTTP_AUTHORIZATION=f"Token {key}")

    client = client_for("Data steward")
    rng = random.Random(args.seed)
    parties = Party.objects.active().count()
    print(
        f"machine   : {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}"
    )
    print(f"parties   : {parties:,} active; model #{model.pk}; load average before {_load()}")

    half = args.requests // 2
    candidates = [("existing", c) for c in _existing_candidates(half, rng)]
    candidates += [("new", _fresh_candidate(rng)) for _ in range(args.requests - len(candidates))]
    rng.shuffle(candidates)

    def post(c: Client, body: dict, expect: int) -> tuple[float, dict]:
        started = time.perf_counter()
        response = c.post(URL, json.dumps(body), content_type="application/json", HTTP_HOST="localhost")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            raise SystemExit(f"{response.status_code} {response.content[:500]!r} for {body}")
        return elapsed, response.json()

    for _ in range(5):  # warm up: the model's load, imports, the connection
        post(client, _fresh_candidate(rng), 200)
    times: dict[str, list[float]] = {"existing": [], "new": []}
    bands: dict[str, dict[str, int]] = {"existing": {}, "new": {}}
    candidates_scored: list[int] = []
    found_original = 0
    for kind, body in candidates:
        original = body.pop("_party", None)
        elapsed, result = post(client, body, 200)
        found_original += original in {m["party_id"] for m in result["matches"]}
        times[kind].append(elapsed)
        top = result["matches"][0]["band"] if result["matches"] else "none"
        bands[kind][top] = bands[kind].get(top, 0) + 1
        candidates_scored.append(result["candidates"])
    every = times["existing"] + times["new"]
    lines = [
        timing_line("match, an existing customer with a typo", times["existing"]),
        timing_line("match, a customer nobody has", times["new"]),
        timing_line("match, all", every),
    ]
    print(f"{'p99, all':<50}: {percentile(every, 0.99):7.1f} ms")
    print(f"best match's band: existing {bands['existing']}, new {bands['new']}")
    print(
        f"the re-entered customer's own party among the matches: {found_original} of {len(times['existing'])}"
    )
    print(
        f"parties scored per request: p50 {percentile(candidates_scored, 0.5):.0f}, "
        f"max {max(candidates_scored)}"
    )
    summary: dict = {
        "parties": parties,
        "model": model.pk,
        "requests": len(every),
        "p50_ms": round(percentile(every, 0.5), 1),
        "p95_ms": round(percentile(every, 0.95), 1),
        "p99_ms": round(percentile(every, 0.99), 1),
        "existing_p95_ms": round(percentile(times["existing"], 0.95), 1),
        "new_p95_ms": round(percentile(times["new"], 0.95), 1),
        "bands": bands,
        "found_original": found_original,
        "lines": lines,
    }
    if args.create:
        admin = client_for("Administrator")
        source = SourceSystem.objects.order_by("pk").first()
        created, suggested = [], 0
        stamp = int(time.time())
        for i in range(args.create):
            kind, body = candidates[i % len(candidates)]
            body = {**body, "create": True, "source_system": source.name, "source_key": f"ENTRY-{stamp}-{i}"}
            elapsed, result = post(admin, body, 201)
            created.append(elapsed)
            suggested += result["suggestion"] is not None
        line = timing_line("match and create (create=true)", created)
        print(f"  {suggested} of {len(created)} made a pending suggestion")
        summary.update(
            create_p95_ms=round(percentile(created, 0.95), 1), create_line=line, suggested=suggested
        )
    summary["load_after"] = _load()
    print(f"load average after: {summary['load_after']}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
