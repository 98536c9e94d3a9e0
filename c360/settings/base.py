"""Settings shared by every environment, all read from the environment (see README)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from c360.env import env_bool, env_int, env_list, env_secret, env_str


def _rate(name: str, default: str) -> str:
    """A request rate as DRF reads it, checked at start (a typo would fail every request)."""
    value = (env_str(name) or default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate; write e.g. 1200/minute or 10/second.")
    return value


BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("C360_VAR_DIR", str(BASE_DIR / "var")))  # type: ignore[arg-type]
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_secret("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The covering index on engagements (parties 0018) includes columns on PostgreSQL; SQLite, the
# embedded default, builds it without them, which is all this warning says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # the second factor (c360.accounts.otp): TOTP devices, and recovery codes as static tokens
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "c360",
    "parties",
    "matching",
    "consents",
    "c360.dashboard",
    "c360.accounts",
    "c360.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "c360.kernel.params.QueryStringCheckMiddleware",  # a NUL in a query string: 400, never a database error
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session gave a second factor (django-otp) …
    "django_otp.middleware.OTPMiddleware",
    # … and the pages it must give one before (C360_OTP_REQUIRED; c360.accounts.otp_middleware)
    "c360.accounts.otp_middleware.SecondFactorMiddleware",
    # Every page needs a login unless a view is explicitly marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # ends sessions idle or older than their lifetime (C360_SESSION_*), with a message for the sign-in page
    "c360.accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a refused sign-in (locked out) into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "c360.urls"
WSGI_APPLICATION = "c360.wsgi.application"
ASGI_APPLICATION = "c360.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "c360.context_processors.navigation",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} cannot be parsed: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web server and Celery worker write to the same file: WAL lets readers run while a
        # writer commits, IMMEDIATE transactions avoid deadlocking lock upgrades, and the
        # timeout makes a writer wait for the other instead of failing with "database locked".
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'c360.sqlite3'}"
DATABASES = {"default": _database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when configured, is the Celery broker and result backend and the cache.
# The cache must be one that every process shares (web workers and Celery workers): the API
# throttles count in it. Without Redis it is c360.cache.SharedFileCache under var/cache/ (one
# machine; why files and not the database: see that module). Several machines need Redis.
REDIS_URL = env_str("REDIS_URL")
C360_CACHE_DIR = Path(env_str("C360_CACHE_DIR") or VAR_DIR / "cache")
# Prefix of every cache key: lets several installations share one Redis without sharing counts.
C360_CACHE_PREFIX = env_str("C360_CACHE_PREFIX") or ""
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": C360_CACHE_PREFIX,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "c360.cache.SharedFileCache",
            "LOCATION": str(C360_CACHE_DIR),
            "KEY_PREFIX": C360_CACHE_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a sign-in while the user or the address is locked out, before
# the password is even checked (every sign-in goes through django.contrib.auth.authenticate
# with the request: the login page, the admin's login).
# c360.accounts.backends.LocalLoginSwitch refuses passwords when C360_LOCAL_LOGIN is off (but a
# superuser's); c360.accounts.oidc.CompanyOIDCBackend answers only the company sign-in's callback.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "c360.accounts.backends.LocalLoginSwitch",
    "django.contrib.auth.backends.ModelBackend",
    "c360.accounts.oidc.CompanyOIDCBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))  # type: ignore[arg-type]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))  # type: ignore[arg-type]
MEDIA_URL = "media/"

# Uploads: anything larger than this is refused before it is read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # Django's default, named: the column limit below depends on it
C360_UPLOAD_MAX_BYTES = env_int("C360_UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1)
# Columns an import file may have. The mapping form posts one field per column, so this stays
# under DATA_UPLOAD_MAX_NUMBER_FIELDS.
C360_IMPORT_MAX_COLUMNS = env_int("C360_IMPORT_MAX_COLUMNS", 500, minimum=1)
if C360_IMPORT_MAX_COLUMNS > DATA_UPLOAD_MAX_NUMBER_FIELDS - 10:
    raise ImproperlyConfigured(
        f"C360_IMPORT_MAX_COLUMNS={C360_IMPORT_MAX_COLUMNS} must be at most "
        f"{DATA_UPLOAD_MAX_NUMBER_FIELDS - 10}."
    )
# Large imports standardize rows in this many processes in parallel (1 = in the worker only).
C360_IMPORT_PROCESSES = env_int("C360_IMPORT_PROCESSES", os.cpu_count() or 1, minimum=1)
C360_IMPORT_PARALLEL_MIN_ROWS = env_int("C360_IMPORT_PARALLEL_MIN_ROWS", 20_000, minimum=0)
# Records the matcher samples for active learning and training (memory grows fast with it).
C360_MATCHING_SAMPLE = env_int("C360_MATCHING_SAMPLE", 1000, minimum=10)
# Parties the matcher's training flattens to learn from the data itself (expectation-maximization
# on the standard blocking rules' pairs among them; matching.services.evidence).
C360_MATCHING_EM_SAMPLE = env_int("C360_MATCHING_EM_SAMPLE", 100_000, minimum=100)
# Canopy (index) predicates need every party's values in every worker's memory and cannot be
# updated for a few new parties: off by default, so fingerprints depend on the party alone.
C360_MATCHING_INDEX_PREDICATES = env_bool("C360_MATCHING_INDEX_PREDICATES", False)
# Block keys shared by more parties than this are left out of candidate pairs.
C360_MATCHING_MAX_BLOCK = env_int("C360_MATCHING_MAX_BLOCK", 100, minimum=2)
# Candidate pairs scored per party, at most, on average over a chunk of a run (0: no limit).
# Over it, the parties with the most candidates keep only the partners sharing the most block
# keys with them: a model whose learned predicates are weak cannot make a run take hours.
C360_MATCHING_PAIR_BUDGET = env_int("C360_MATCHING_PAIR_BUDGET", 16, minimum=0)
# Key of the erasure tombstones' HMAC (consents.services.erasure). Falls back to SECRET_KEY; set it
# when SECRET_KEY may rotate, or erased customers stop being recognised on re-import.
C360_TOMBSTONE_KEY = env_secret("C360_TOMBSTONE_KEY")
# The country a phone number typed into a search box without +country is read as.
C360_PHONE_REGION = (env_str("C360_PHONE_REGION") or "US").upper()
# Parties per match-run chunk (one Celery task each); workers share a run's chunks.
C360_MATCHING_CHUNK_PARTIES = env_int("C360_MATCHING_CHUNK_PARTIES", 10_000, minimum=10)
# A large run builds its suggestions' evidence in this many spawned processes (runs of fewer
# clusters than C360_MATCHING_PARALLEL_MIN_CLUSTERS build it in the run's own process).
C360_MATCHING_CLUSTER_PROCESSES = env_int("C360_MATCHING_CLUSTER_PROCESSES", os.cpu_count() or 1, minimum=1)
C360_MATCHING_PARALLEL_MIN_CLUSTERS = env_int("C360_MATCHING_PARALLEL_MIN_CLUSTERS", 20_000, minimum=0)
FILE_UPLOAD_HANDLERS = [
    "c360.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Sign-in lockout (django-axes) and client addresses --------------------------------------
# Reverse proxies of our own in front of the app that append the client's address to
# X-Forwarded-For (0: none, REMOTE_ADDR is the client). The lockout and the API's anonymous
# throttle count per address: set it when a proxy terminates TLS, or every client looks alike.
C360_TRUSTED_PROXIES = env_int("C360_TRUSTED_PROXIES", 0, minimum=0)
# After this many failed sign-ins for one username, or C360_LOGIN_ADDRESS_FAILURE_LIMIT from one
# address (higher: an office behind one NAT address must not be locked out by one clumsy
# colleague), signing in is refused for C360_LOGIN_COOLOFF_MINUTES; each further try while
# refused starts that time again, and even the right password is refused until it has passed.
C360_LOGIN_FAILURE_LIMIT = env_int("C360_LOGIN_FAILURE_LIMIT", 10, minimum=1)
C360_LOGIN_ADDRESS_FAILURE_LIMIT = env_int(
    "C360_LOGIN_ADDRESS_FAILURE_LIMIT", 5 * C360_LOGIN_FAILURE_LIMIT, minimum=C360_LOGIN_FAILURE_LIMIT
)
C360_LOGIN_COOLOFF_MINUTES = env_int("C360_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = C360_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=C360_LOGIN_COOLOFF_MINUTES)
# each counted on its own, in this order (c360.login_lockout weighs the address's count)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The failures live in the database (axes' default handler), which every process shares; the
# same rows are the audit trail: Axes › Access attempts (the counts, delete one to lift a
# lockout early), Access failures (each failed try, marked when it locked out) and Access logs
# (sign-ins and sign-outs), for administrators in the admin.
AXES_HANDLER = "c360.login_lockout.LockoutHandler"  # axes' database handler, values made storable
AXES_USERNAME_CALLABLE = "c360.login_lockout.attempted_username"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_RESET_ON_SUCCESS = False  # a sign-in of one's own must not wipe an address's failures
AXES_CLIENT_IP_CALLABLE = "c360.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "c360.login_lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner from every manage.py command; c360.login_lockout logs lockouts

# --- Company sign-in (OpenID Connect, mozilla-django-oidc; c360.accounts.oidc) ---------------
# Off unless C360_OIDC_ISSUER is set. The provider's endpoints and signing keys come from its
# discovery document (ISSUER/.well-known/openid-configuration), read at the first sign-in and
# kept for an hour. ID tokens must be RS256-signed by a key in its JWKS, for this client (aud),
# from this issuer (iss), unexpired, with the nonce of this sign-in; state and PKCE are on.
C360_OIDC_ISSUER = (env_str("C360_OIDC_ISSUER") or "").rstrip("/")
C360_OIDC_CLIENT_ID = env_str("C360_OIDC_CLIENT_ID") or ""
C360_OIDC_CLIENT_SECRET = env_secret("C360_OIDC_CLIENT_SECRET") or ""
C360_OIDC_SCOPES = env_str("C360_OIDC_SCOPES") or "openid email profile"
C360_OIDC_GROUPS_CLAIM = env_str("C360_OIDC_GROUPS_CLAIM") or "groups"
C360_OIDC_LABEL = env_str("C360_OIDC_LABEL") or "your company account"


def _role_map(name: str) -> dict[str, list[str]]:
    """``group=Role;group=Role`` → {group: [roles]}; a role must be one of the three."""
    from c360.kernel.roles import ROLE_NAMES

    mapping: dict[str, list[str]] = {}
    for item in (env_str(name) or "").split(";"):
        if not item.strip():
            continue
        group, sep, role = (part.strip() for part in item.partition("="))
        if not sep or not group or role not in ROLE_NAMES:
            raise ImproperlyConfigured(
                f"{name}: {item.strip()!r} is not group=role with a role of {', '.join(ROLE_NAMES)}."
            )
        mapping.setdefault(group, []).append(role)
    return mapping


C360_OIDC_ROLE_MAP = _role_map("C360_OIDC_ROLE_MAP")
if C360_OIDC_ISSUER and not (C360_OIDC_CLIENT_ID and C360_OIDC_CLIENT_SECRET and C360_OIDC_ROLE_MAP):
    raise ImproperlyConfigured(
        "C360_OIDC_ISSUER is set: C360_OIDC_CLIENT_ID, C360_OIDC_CLIENT_SECRET and C360_OIDC_ROLE_MAP "
        "must be too."
    )
# Off: the sign-in page has no password form and refuses its POSTs; the admin's sign-in page
# takes passwords of superusers only (the break-glass when the identity provider is down).
C360_LOCAL_LOGIN = env_bool("C360_LOCAL_LOGIN", True)
# mozilla-django-oidc's own settings (the endpoints it would read are found by discovery)
OIDC_RP_SCOPES = C360_OIDC_SCOPES
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of signing out at the provider
OIDC_TIMEOUT = 10  # seconds, each call to the provider
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"

# --- Webhooks (c360.webhooks): delivery of change events to subscribers ------------------------
# A failed delivery is tried again after base·2^(n−1) seconds (n: attempts so far), at most the
# cap, times a random factor in [0.5, 1]; after the retry window it is dead (redeliver sends it).
C360_WEBHOOK_RETRY_HOURS = env_int("C360_WEBHOOK_RETRY_HOURS", 24, minimum=1)
C360_WEBHOOK_BACKOFF_SECONDS = env_int("C360_WEBHOOK_BACKOFF_SECONDS", 10, minimum=1)
C360_WEBHOOK_BACKOFF_MAX_SECONDS = env_int("C360_WEBHOOK_BACKOFF_MAX_SECONDS", 900, minimum=1)
C360_WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("C360_WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
C360_WEBHOOK_TIMEOUT_SECONDS = env_int("C360_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# How long a worker holds a subscriber without renewing before another may take over (a killed
# worker's deliveries go on after this); renewed every page of deliveries.
C360_WEBHOOK_LEASE_SECONDS = env_int("C360_WEBHOOK_LEASE_SECONDS", 60, minimum=5)

# --- Second factor (django-otp: TOTP, with recovery codes) ----------------------------------
# Who must have one: "off" (nobody; anyone may still enrol), "administrators" (the Administrator
# role, staff and superusers) or "everyone". A user who has one gives it at every sign-in, whatever
# this says. Production's default is "administrators"; local.py (make run's demo) turns it off.
C360_OTP_REQUIRED = (env_str("C360_OTP_REQUIRED") or "administrators").strip().lower()
if C360_OTP_REQUIRED not in {"off", "administrators", "everyone"}:
    raise ImproperlyConfigured(
        f"C360_OTP_REQUIRED={C360_OTP_REQUIRED!r} must be one of off, administrators, everyone."
    )
# The name an authenticator app shows beside the account (tell staging from production).
OTP_TOTP_ISSUER = env_str("C360_OTP_ISSUER") or "C360 Steward"
# Wrong codes: django-otp's throttle, per device: after n failures in a row the next try is
# refused for 2**(n-1) seconds (1, 2, 4, … 512 s after ten), a right code resets it.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Sessions (c360.accounts.services) ---------------------------------------------------------
# A signed-in session ends after this many minutes without a request, and this many hours after
# its sign-in however busy (the sign-in page then says why). API tokens are not sessions.
C360_SESSION_IDLE_MINUTES = env_int("C360_SESSION_IDLE_MINUTES", 60, minimum=1)
C360_SESSION_MAX_HOURS = env_int("C360_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = C360_SESSION_MAX_HOURS * 3600  # the store forgets it then too

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from base.html's hx-headers, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp 4) ---------------------------------------------------
# Every response tells the browser to run scripts and apply styles only from this site's own
# static files (vendored, no CDN): no 'unsafe-inline' and no 'unsafe-eval', so markup that an
# attacker slips into a page (a <script>, an onclick=, a javascript: link, a style=) does nothing.
# The templates hold no inline code: static/js/app.js wires confirmations, select-all boxes and
# the like up from data-* attributes, and htmx is told not to inject styles nor eval (base.html).
# Django's admin needs nothing more. Only the API docs pages relax their own policy, on their
# views (c360/api_docs.py): data: images for their icons, and for ReDoc the <style> elements
# its bundle injects and its blob: search worker. Their scripts are as strict as everywhere.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    },
}
if C360_OIDC_ISSUER:
    # Signing out after a company sign-in continues at the provider (a redirect from the sign-out
    # form), which the browser allows only to the origins of form-action.
    _issuer = urlsplit(C360_OIDC_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")
# --- end of Content-Security-Policy ----------------------------------------------------------

# --- Celery ---------------------------------------------------------------------------------
# Without Redis, kombu's filesystem transport is the broker: no server is needed, and the worker
# is still a separate process that picks messages up from files under var/celery/.
CELERY_BROKER_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_RESULT_BACKEND = (
    env_str("CELERY_RESULT_BACKEND") or REDIS_URL or (f"file://{CELERY_BROKER_DIR / 'results'}")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),  # kombu's default is ./control
        "store_processed": False,
    }
# The queue tasks go to (and a worker started without --queues reads): separate queues let
# several installations or benchmarks share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env_str("C360_CELERY_QUEUE") or "celery"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# Jobs resume by themselves when their worker dies (c360.kernel.durable): a message is acknowledged
# only when its task ends, a prefork child's death puts its message back at once, and a
# Redis broker hands an unacknowledged message out again after the visibility timeout, which
# must be longer than the longest job (a large import or a full match run: hours). Every job
# task also keeps a lease (c360.kernel.durable.DurableTask), which is what brings a job back within
# seconds on the filesystem broker (it never redelivers) and on Redis: when any worker starts
# and every C360_TASK_RECOVER_SECONDS (beat), a job whose process on this machine is gone, or
# whose heartbeat (every C360_TASK_HEARTBEAT_SECONDS) stopped for C360_TASK_STALE_SECONDS, is
# sent again and continues from its last commit.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
C360_CELERY_VISIBILITY_TIMEOUT = env_int("C360_CELERY_VISIBILITY_TIMEOUT", 12 * 3600, minimum=60)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": C360_CELERY_VISIBILITY_TIMEOUT}
C360_TASK_HEARTBEAT_SECONDS = env_int("C360_TASK_HEARTBEAT_SECONDS", 10, minimum=1)
C360_TASK_STALE_SECONDS = env_int("C360_TASK_STALE_SECONDS", 120, minimum=2)
C360_TASK_UNCLAIMED_SECONDS = env_int("C360_TASK_UNCLAIMED_SECONDS", 900, minimum=10)
C360_TASK_RECOVER_SECONDS = env_int("C360_TASK_RECOVER_SECONDS", 60, minimum=5)
if C360_TASK_STALE_SECONDS < 3 * C360_TASK_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "C360_TASK_STALE_SECONDS must be at least three heartbeats "
        "(C360_TASK_HEARTBEAT_SECONDS), or running jobs would be taken over."
    )
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST framework (the API grows in the API issue) ---------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "c360.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["c360.api_auth.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "rest_framework.permissions.DjangoModelPermissions",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's parsers, refusing a NUL anywhere in a body (c360.kernel.api): a 400, not a database error
    "DEFAULT_PARSER_CLASSES": [
        "c360.kernel.api.JSONParser",
        "c360.kernel.api.FormParser",
        "c360.kernel.api.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "c360.kernel.api.api_exception_handler",
    # DRF's own guess at a client's address believes any X-Forwarded-For; ours does not.
    "NUM_PROXIES": C360_TRUSTED_PROXIES,
}
# Both counted in the shared cache (c360.api_auth.SharedRateThrottle), so they hold however many
# processes serve the API. Rates as DRF writes them: N/second, N/minute, N/hour or N/day.
C360_API_RATE = _rate("C360_API_RATE", "1200/minute")  # per API token (and per signed-in user)
# Per client address, requests without a valid token or session (401s, guessed tokens).
C360_API_ANON_RATE = _rate("C360_API_ANON_RATE", "60/minute")

# The schema (/api/schema/) and its docs (/api/docs/, /api/redoc/) need a token or a login
# like the rest of the API, unless C360_API_DOCS_PUBLIC=1 opens them to anyone.
C360_API_DOCS_PUBLIC = env_bool("C360_API_DOCS_PUBLIC", False)

SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if C360_API_DOCS_PUBLIC
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "TITLE": "C360 Steward API",
    "DESCRIPTION": "Golden records, contact points, consents, imports and match decisions for other "
    "systems. Authenticate with `Authorization: Token <token>` (tokens are created by "
    'administrators). Errors are `{"detail": …, "errors": {field: [messages]}}`.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # ReDoc's theme names web fonts (Montserrat, Roboto) that only a font CDN would bring: the
    # page uses the system's fonts instead, as the rest of the site does (it works offline).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": (
                    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
                ),
                "headings": {
                    "fontFamily": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
                    "sans-serif"
                },
                "code": {"fontFamily": 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace'},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ContactUsageEnum": "parties.models.contact_points.ContactUsage",
        "AddressUsageEnum": "parties.models.contact_points.AddressUsage",
        "PartyStatusEnum": "parties.models.party.PartyStatus",
        "PartyKindEnum": "parties.models.party.PartyKind",
        "ImportStatusEnum": "parties.models.imports.ImportStatus",
        "MembershipStatusEnum": "parties.models.engagement.MembershipStatus",
        "SourceKindEnum": "parties.models.sources.SourceKind",
        "EventKindEnum": "parties.models.history.EventKind",
        "ChannelEnum": "consents.models.Channel",
        "ConsentStatusEnum": "consents.models.ConsentStatus",
        "SuggestionStatusEnum": "matching.models.SuggestionStatus",
        "AuthEventKindEnum": "c360.accounts.models.AuthEventKind",
        "EditableContactPointKindEnum": [("email", "email"), ("phone", "phone")],
        "SubscriberStatusEnum": "c360.webhooks.models.SubscriberStatus",
        "DeliveryStatusEnum": "c360.webhooks.models.DeliveryStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Demo data: the seed used by `make run` when the database is empty.
C360_DEMO_PARTIES = env_int("C360_DEMO_PARTIES", 1500, minimum=0)
