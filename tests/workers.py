"""A real Celery worker process for tests, on the configured broker and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "c360.settings.test", "DATABASE_URL": test_database_url()}


@contextmanager
def celery_worker(log_path: Path, queue: str | None = None, pool: str = "solo") -> Iterator[subprocess.Popen]:
    """Start ``celery worker`` as a separate process; stop it (or find it killed) after.
    ``pool="prefork"``: one child process runs the tasks, as in production."""
    queue = queue or settings.CELERY_TASK_DEFAULT_QUEUE
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "c360",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--queues",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"test-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        print(log_path.read_text()[-3000:])
