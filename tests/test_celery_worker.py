"""A real Celery worker process, on the configured broker (Redis in CI, the filesystem
transport by default), picks up a task and writes its result to the real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from parties.models import Party
from parties.tasks import golden_refresh
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = [
    pytest.mark.worker, pytest.mark.django_db(transaction=True)
]

ROOT = Path(settings.BASE_DIR)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start ``celery worker`` as a separate process on a queue of its own; stop it after."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "c360.settings.test",
           "DATABASE_URL": _database_url()}
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "c360", "worker", "--pool=solo",
         "--queues", queue, "--loglevel=INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


def test_a_worker_process_runs_a_task_against_the_real_database(worker):
    # Given a party whose golden name is stale compared with its source record
    source = SourceSystemFactory(name="CRM", trust_rank=1)
    party = PartyFactory(given_name="", family_name="", display_name="stale")
    SourceRecordFactory(party=party, source_system=source, standardized={
        "kind": "individual", "attributes": {"given_name": "Grace", "family_name": "Hopper"}})

    # When the refresh task is sent through the broker to the worker process
    result = golden_refresh.apply_async(args=[party.pk], queue=worker)

    # Then the worker reports the task done, and its write is in the database
    assert result.get(timeout=90) == "Grace Hopper"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        party.refresh_from_db()
        if party.display_name == "Grace Hopper":
            break
        time.sleep(0.2)
    assert (party.given_name, party.family_name, party.display_name) == (
        "Grace", "Hopper", "Grace Hopper")
    assert Party.objects.count() == 1
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
