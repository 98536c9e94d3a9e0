"""Benchmark: change events delivered by webhooks, through a real Celery worker (one process,
solo pool, with its beat) to a real local HTTP receiver.

1. **Latency**: events committed one at a time (``--latency-events`` at ``--rate`` a second) with
   the worker otherwise idle: seconds from commit to the receiver's arrival, p50/p95.
2. **Throughput**: ``--events`` events queued for a paused subscriber, then resumed: events a
   minute one worker delivers. Beside it, in the same run, the ceiling: a bare loop of
   ``requests`` POSTing the same bodies to the same receiver (no database, no signing).
3. **Outage**: the receiver is down for ``--outage`` seconds while events keep coming
   (``--outage-rate`` a second over 200 parties), then back: every event must arrive, in order
   per party. An hour is compressed: the retry settings are divided by 3600/outage (a 900 s
   backoff cap becomes 15 s for a 60 s outage), so the same number of backoff rounds happen.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_webhooks_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/webhooks_bench.py [--events 20000] [--outage 60]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchlib import ROOT, django_env_setup, percentile

django_env_setup()
QUEUE = f"bench-webhooks-{uuid.uuid4().hex[:8]}"
os.environ["C360_CELERY_QUEUE"] = QUEUE


class Receiver:
    """Records (arrival time, event) of every POST; keep-alive (HTTP/1.1) like a real server."""

    def __init__(self, port: int = 0) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrivals.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


STARTED: list[subprocess.Popen] = []


@atexit.register
def _workers_stop() -> None:
    """A failed run must not leave a worker (and its beat) behind."""
    for process in STARTED:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the worker and its beat


def worker_start(log: Path, extra_env: dict[str, str]) -> subprocess.Popen:
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    env = {**os.environ, **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "c360", "worker", "-B", "--schedule", str(schedule),
         "--pool=solo", "--concurrency=1", "--queues", QUEUE, "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    STARTED.append(process)
    return process


def worker_stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit(f"timed out after {seconds:.0f} s waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="latency: events a second")
    parser.add_argument("--events", type=int, default=20000, help="throughput: events queued")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the receiver is down")
    parser.add_argument("--outage-rate", type=float, default=20.0)
    parser.add_argument("--skip", default="", help="comma-separated: latency,throughput,outage")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connection, transaction

    from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber
    from c360.webhooks.services.subscribers import subscriber_create, subscriber_pause, subscriber_resume
    from parties.models import ChangeEvent, Party
    from parties.services import outbox

    call_command("migrate", verbosity=0)
    Delivery.objects.all().delete()
    Subscriber.objects.all().delete()
    parties = list(Party.objects.values_list("pk", flat=True)[:2000])
    if len(parties) < 2000:
        Party.objects.bulk_create([Party(kind="individual", display_name=f"bench {i}") for i in range(2000)])
        parties = list(Party.objects.values_list("pk", flat=True)[:2000])
    outbox.change_events_sequence()
    print(
        f"# {platform.node()} · {connection.vendor} · worker: 1 process, solo pool · load {os.getloadavg()}"
    )
    log_dir = Path(tempfile.mkdtemp(prefix="webhooks-bench-"))

    def event(party_id: int, marker: str) -> None:
        with transaction.atomic():
            outbox.party_updated_event(party_id=party_id, fields=[marker], actor="bench")

    results: dict[str, object] = {}

    # 1. latency
    if "latency" not in skip:
        receiver = Receiver()
        subscriber = subscriber_create(name="bench-latency", url=receiver.url)
        worker = worker_start(log_dir / "latency.log", {})
        time.sleep(20)  # the worker is up and done with what its beat sends at start: idle
        committed: dict[str, float] = {}
        for i in range(args.latency_events):
            marker = f"lat-{i}"
            event(parties[i % len(parties)], marker)
            committed[marker] = time.time()
            time.sleep(1 / args.rate)
        wait_for(lambda: len(receiver.arrivals) >= args.latency_events, 120, "latency deliveries")
        seen = {}
        for at, body in receiver.arrivals:
            seen.setdefault(body["data"]["fields"][0], at)
        latencies = [(seen[m] - committed[m]) * 1000 for m in committed]
        worker_stop(worker)
        receiver.stop()
        Subscriber.objects.filter(pk=subscriber.pk).delete()
        results["latency_ms"] = {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "n": len(latencies),
        }
        print(
            f"commit → receiver (idle worker, {args.rate:g}/s): p50 {percentile(latencies, 0.5):7.1f} ms   "
            f"p95 {percentile(latencies, 0.95):7.1f} ms   max {max(latencies):7.1f} ms   (n={len(latencies)})"
        )

    # 2. throughput
    if "throughput" not in skip:
        receiver = Receiver()
        subscriber = subscriber_create(name="bench-throughput", url=receiver.url)
        subscriber_pause(subscriber_id=subscriber.pk)
        worker = worker_start(log_dir / "throughput.log", {})
        for start in range(0, args.events, 1000):
            with transaction.atomic():
                for i in range(start, min(args.events, start + 1000)):
                    outbox.party_updated_event(
                        party_id=parties[i % len(parties)], fields=[f"tp-{i}"], actor="bench"
                    )
        from c360.webhooks.services.dispatch import webhooks_dispatch

        webhooks_dispatch()  # fan-out (the paused subscriber gets its deliveries, none sent)
        if Delivery.objects.filter(subscriber=subscriber).count() != args.events:
            raise SystemExit("the paused subscriber did not get a delivery for every event")
        time.sleep(3)
        started = time.monotonic()
        subscriber_resume(subscriber_id=subscriber.pk)
        took = wait_for(
            lambda: (
                not Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).exists()
            ),
            1800,
            "throughput deliveries",
        )
        worker_stop(worker)
        per_minute = args.events / took * 60
        bodies = [json.dumps(b).encode() for _, b in receiver.arrivals[: min(5000, len(receiver.arrivals))]]
        session = requests.Session()
        raw_started = time.monotonic()
        for body in bodies:
            session.post(receiver.url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
        raw = len(bodies) / (time.monotonic() - raw_started) * 60
        receiver.stop()
        delivered = Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.DELIVERED).count()
        Subscriber.objects.filter(pk=subscriber.pk).delete()
        results["throughput_per_minute"] = per_minute
        results["raw_post_loop_per_minute"] = raw
        print(
            f"one worker: {args.events:,} events in {took:.1f} s = {per_minute:,.0f} events/min "
            f"({delivered:,} delivered)"
        )
        print(f"peer ceiling, a bare requests POST loop, same receiver: {raw:,.0f} POSTs/min")

    # 3. outage
    if "outage" not in skip:
        scale = 3600 / args.outage
        env = {
            "C360_WEBHOOK_BACKOFF_SECONDS": str(max(1, round(10 / scale))),
            "C360_WEBHOOK_BACKOFF_MAX_SECONDS": str(max(1, round(900 / scale))),
            "C360_WEBHOOK_DISPATCH_SECONDS": "1",
        }
        receiver = Receiver()
        port = receiver.port
        subscriber = subscriber_create(name="bench-outage", url=receiver.url)
        receiver.stop()  # down
        worker = worker_start(log_dir / "outage.log", env)
        time.sleep(5)
        count = int(args.outage * args.outage_rate)
        started = time.monotonic()
        for i in range(count):
            event(parties[i % 200], f"out-{i}")
            delay = started + (i + 1) / args.outage_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        receiver = Receiver(port=port)  # back
        drained = wait_for(
            lambda: (
                not Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).exists()
            ),
            600,
            "the backlog after the outage",
        )
        worker_stop(worker)
        receiver.stop()
        ids = [b["id"] for _, b in receiver.arrivals]
        expected = set(Delivery.objects.filter(subscriber=subscriber).values_list("sequence", flat=True))
        order_ok = True
        firsts: dict[int, list[int]] = {}
        seen_ids: set[int] = set()
        for _, body in receiver.arrivals:
            if body["id"] in seen_ids:
                continue
            seen_ids.add(body["id"])
            firsts.setdefault(body["party_id"], []).append(body["id"])
        for sequence in firsts.values():
            order_ok &= sequence == sorted(sequence)
        dead = Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.DEAD).count()
        subscriber.refresh_from_db()
        results["outage"] = {
            "events": count,
            "received_distinct": len(set(ids)),
            "missing": len(expected - set(ids)),
            "duplicates": len(ids) - len(set(ids)),
            "in_order_per_party": order_ok,
            "dead": dead,
            "drained_seconds_after_return": drained,
        }
        print(
            f"outage {args.outage:g} s (an hour at 1/{scale:g} scale: backoff "
            f"{env['C360_WEBHOOK_BACKOFF_SECONDS']}–{env['C360_WEBHOOK_BACKOFF_MAX_SECONDS']} s): "
            f"{count:,} events, "
            f"{len(set(ids)):,} received, {len(expected - set(ids))} missing, {len(ids) - len(set(ids))} "
            f"duplicates, in order per party: {order_ok}, dead {dead}; backlog delivered {drained:.1f} s "
            "after the receiver came back"
        )
        Subscriber.objects.filter(pk=subscriber.pk).delete()
    ChangeEvent.objects.filter(actor="bench").delete()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
