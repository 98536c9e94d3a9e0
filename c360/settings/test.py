"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL points at it."""

import os
import uuid

from c360.env import env_str

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real Celery worker process can open the test database.
    worker = env_str("PYTEST_XDIST_WORKER", "main")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{worker}.sqlite3")}

# A queue of this test run's own, inherited by the worker processes the tests start, so that
# no other worker on the machine (a `make run` in another terminal) takes the tests' tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault("C360_TEST_QUEUE", f"c360-test-{uuid.uuid4().hex[:8]}")
C360_API_RATE = "100000/minute"  # the suite calls the API far more often than a client would
