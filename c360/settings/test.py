"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL points at it."""

import os
import uuid

from c360.env import env_str

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REDIS_URL, VAR_DIR

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

worker_name = env_str("PYTEST_XDIST_WORKER", "main")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real Celery worker process can open the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{worker_name}.sqlite3")}

# A queue of this test run's own, inherited by the worker processes the tests start, so that
# no other worker on the machine (a `make run` in another terminal) takes the tests' tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault("C360_TEST_QUEUE", f"c360-test-{uuid.uuid4().hex[:8]}")
# The suite calls the API far more often than a client would (the throttle tests set their own
# rates; the test of two server processes passes its rate to them in C360_TEST_API_RATE).
C360_API_RATE = env_str("C360_TEST_API_RATE") or "100000/minute"
C360_API_ANON_RATE = env_str("C360_TEST_API_ANON_RATE") or "100000/minute"
# Counters of this test run's own (inherited by the worker and server processes the tests
# start), so that neither an earlier run nor another run on the same Redis or cache directory
# is counted.
if not REDIS_URL and not env_str("C360_CACHE_DIR"):
    CACHES["default"]["LOCATION"] = str(VAR_DIR / f"cache-test-{worker_name}")
CACHES["default"]["KEY_PREFIX"] = os.environ.setdefault(
    "C360_TEST_CACHE_PREFIX", f"c360-test-{uuid.uuid4().hex[:8]}"
)
# The suite signs administrators in with force_login and the sign-in form and no second factor:
# enforcement is off here, said so, and tests/accounts/test_otp.py turns it on (administrators,
# everyone) to test it. The product's default is "administrators" (base.py; a test says so).
C360_OTP_REQUIRED = "off"
