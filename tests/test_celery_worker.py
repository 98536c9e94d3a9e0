"""A real Celery worker process, on the configured broker (Redis in CI, the filesystem
transport by default), picks up a task and writes its result to the real database."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.conf import settings

from parties.models import Party
from parties.tasks import golden_refresh
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory
from tests.workers import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    """A worker on a queue of its own, so this test sees only its own task."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    with celery_worker(tmp_path / "worker.log", queue=queue):
        yield queue


def test_a_worker_process_runs_a_task_against_the_real_database(worker):
    # Given a party whose golden name is stale compared with its source record
    source = SourceSystemFactory(name="CRM", trust_rank=1)
    party = PartyFactory(given_name="", family_name="", display_name="stale")
    SourceRecordFactory(
        party=party,
        source_system=source,
        standardized={"kind": "individual", "attributes": {"given_name": "Grace", "family_name": "Hopper"}},
    )

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
    assert (party.given_name, party.family_name, party.display_name) == ("Grace", "Hopper", "Grace Hopper")
    assert Party.objects.count() == 1
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL.startswith("redis://")
