"""Settings shared by every environment.

Values come from the environment (django-environ). The defaults here are the embedded
default: SQLite, in-memory cache, eager Celery and the offline summarizer, so that the
project runs on a bare machine. ``production.py`` removes the defaults that must never
reach a real deployment.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ

# Django classes accept type parameters (ModelAdmin[Patient]) at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# Which settings profile is active ("local", "test" or "production"); set by each module.
ENVIRONMENT = "base"

# --- Core ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-secret-key-change-me")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # django.contrib.admin, with the TOTP-aware site (accounts/admin_site.py).
    "accounts.admin_config.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "patients",
    "doctors",
    "appointments",
    "outcomes",
    "interactions",
    "notes",
    "summaries",
    "console",
    "simple_history",
    "audit",
    "transfers",
]

# Request bodies larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# JSON bodies nested deeper, or with an array/object of more members, are a 400
# parse_error (see core.parsers).
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
API_JSON_MAX_ITEMS = env.int("API_JSON_MAX_ITEMS", default=10_000)
# Lists count exactly up to this many rows; above it PostgreSQL's estimate is answered
# with count_is_estimate: true (core.pagination).
PAGINATION_EXACT_COUNT_LIMIT = env.int("PAGINATION_EXACT_COUNT_LIMIT", default=10_000)

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.NoStoreApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A user who just wrote reads from the primary for a moment (read replicas only).
    "core.middleware.ReadYourWritesMiddleware",
    "core.middleware.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Change history records who made each change (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # One audit event per admin console page or change (audit/middleware.py).
    "audit.middleware.AdminAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ChaosMiddleware",
    "core.middleware.RefuseNulQueryMiddleware",
    # Last, as django-axes asks: turns a lockout flagged during the view into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# API routes accept both forms of every path; nothing redirects.
APPEND_SLASH = False
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
# SQLite file by default; DATABASE_URL=postgres://... switches to PostgreSQL (psycopg 3).
DB_CONNECT_TIMEOUT_SECONDS = env.int("DB_CONNECT_TIMEOUT_SECONDS", default=3)
DB_POOL = env.bool("DB_POOL", default=True)
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=1)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
DB_POOL_TIMEOUT_SECONDS = env.float("DB_POOL_TIMEOUT_SECONDS", default=DB_CONNECT_TIMEOUT_SECONDS)
# The database URLs point at PgBouncer in transaction pooling mode (docs/deployment.md,
# "PgBouncer"): no server-side prepared statements, no `options` startup parameter.
DATABASE_PGBOUNCER = env.bool("DATABASE_PGBOUNCER", default=False)
# A streaming replica for list, search and timeline reads (core/db/router.py); empty: none.
DATABASE_REPLICA_URL: str = env("DATABASE_REPLICA_URL", default="")
# After a successful write, that user's reads stay on the primary this long.
DATABASE_REPLICA_STICKY_SECONDS = env.int("DATABASE_REPLICA_STICKY_SECONDS", default=5)


def database(url: str, *, pgbouncer: bool = DATABASE_PGBOUNCER) -> dict[str, Any]:
    """One entry of DATABASES from a URL, configured the same way for every alias."""
    config: dict[str, Any] = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, failing fast within one request once the server is found gone,
        # so a 503 never waits DB_CONNECT_TIMEOUT_SECONDS twice (core/db/postgresql/base.py).
        config["ENGINE"] = "core.db.postgresql"
        # Django's native psycopg 3 pool: one pool per process and alias, sized by
        # environment. Pooling and persistent connections are mutually exclusive in Django.
        config["CONN_MAX_AGE"] = 0
        options = config.setdefault("OPTIONS", {})
        # How long a request may wait for the database: a new connection (libpq's
        # connect_timeout) and, with the pool, a pooled one. While PostgreSQL is down every
        # request fails after at most this long with 503 database_unavailable, so a
        # gunicorn thread is never held longer (see docs/operations.md, "Failure modes").
        options["connect_timeout"] = DB_CONNECT_TIMEOUT_SECONDS
        if DB_POOL:
            options["pool"] = {
                "min_size": DB_POOL_MIN_SIZE,
                "max_size": DB_POOL_MAX_SIZE,
                "timeout": DB_POOL_TIMEOUT_SECONDS,
            }
        if pgbouncer:
            # A transaction-mode pooler hands each transaction to any server connection:
            # a statement prepared on one is missing on the next ("prepared statement
            # ... does not exist"). Django's default is already None; this keeps it so
            # whatever else OPTIONS says. PgBouncer refuses the `options` startup
            # parameter, so the trigram threshold below comes from the server or the
            # database instead (ALTER DATABASE ... SET; docs/deployment.md, "PgBouncer").
            options["prepare_threshold"] = None
            options["server_side_binding"] = False
            # A WITH HOLD cursor (QuerySet.iterator() outside a transaction) outlives its
            # transaction, so it would be on a server connection no longer this client's.
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
        else:
            # Fuzzy patient search matches each query word with `%>` (word similarity);
            # 0.3 lets a transposed letter in a short name ("Jonh") still match. Set per
            # connection so the trigram index serves the query.
            options["options"] = "-c pg_trgm.word_similarity_threshold=0.3"
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # Writers wait instead of failing at once; IMMEDIATE transactions take the write
        # lock at BEGIN, which makes check-then-insert in one transaction safe (see
        # appointments).
        # WAL: readers never wait for the writer (the server's threads share the file).
        # A 64 MB page cache and a memory-mapped file keep the patients table and the
        # search index (patients.search_index) in memory instead of re-reading them per
        # statement.
        options = config.setdefault("OPTIONS", {})
        options.update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456"
                ),
            }
        )
    # No transaction per request: each service opens its own (@transaction.atomic), so a
    # task published with on_commit goes out when the write commits (summaries, notes),
    # and a service that must publish before returning (summary_request, which reports a
    # broker failure as 503) can run outside any transaction.
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {
    "default": database(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
}
if DATABASE_REPLICA_URL:
    # Never migrated (the router's allow_migrate); in tests it mirrors the test database,
    # which reaches a real standby by streaming replication (pgstack/).
    DATABASES["replica"] = {**database(DATABASE_REPLICA_URL), "TEST": {"MIRROR": "default"}}
# Reads of the views that opt in go to the replica when there is one; everything else,
# and everything inside a transaction, to the primary (core/db/router.py).
DATABASE_ROUTERS = ["core.db.router.PrimaryReplicaRouter"]

# --- Cache and Redis -------------------------------------------------------------------
REDIS_URL: str | None = env("REDIS_URL", default=None)
# Bounded waits on Redis: a stopped or unreachable Redis fails a cache call (and so a
# throttled request) within seconds, answered 503 service_unavailable (core.errors).
REDIS_TIMEOUT_SECONDS = 3
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ----------------------------------------------------------------------------
# No broker configured -> tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL: str | None = env("CELERY_BROKER_URL", default=None) or REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# A delivered message stays in Redis, unacknowledged, until its task finishes (acks_late).
# If the worker dies without rejecting it (the whole worker SIGKILLed, its node lost),
# another worker restores it once it has been out for `visibility_timeout`: the task time
# limit plus 30 s, so a live task is never handed out twice, and a lost one is redelivered
# within CELERY_TASK_TIME_LIMIT + 60 s (workers look for such messages every 5 s). It must
# also exceed every countdown a task retries with (summaries: the claim lease + 5 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 30,
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    # Publishing from a request: one immediate reconnect (a pooled connection may be stale
    # after a Redis restart), then fail, so that the request answers at once.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# How often beat queues the sweep of notes whose processing was never queued (the broker
# was down when they were saved) or whose worker was lost; a note pending for longer than
# one interval, or processing past CELERY_TASK_TIME_LIMIT, is queued again.
NOTES_SWEEP_INTERVAL_SECONDS = env.float("NOTES_SWEEP_INTERVAL_SECONDS", default=60.0)
# Periodic jobs, run by `celery -A config.celery_app beat` (one beat process per deployment).
CELERY_BEAT_SCHEDULE = {
    "summaries-sweep-stuck": {
        "task": "summaries.tasks.sweep_stuck_summaries",
        "schedule": env.float("SUMMARY_SWEEP_INTERVAL_SECONDS", default=300.0),
    },
    "notes-sweep-pending": {
        "task": "notes.tasks.sweep_pending_notes",
        "schedule": NOTES_SWEEP_INTERVAL_SECONDS,
    },
    "transfers-sweep-stale-imports": {
        "task": "transfers.tasks.sweep_stale_imports",
        "schedule": env.float("IMPORT_SWEEP_INTERVAL_SECONDS", default=300.0),
    },
}

# --- Client address --------------------------------------------------------------------
# X-Forwarded-For is believed only from our own proxies (see core/client_ip.py): either
# the networks they live in, or how many of them stand in front of the app. Default none:
# the address is REMOTE_ADDR and a forged header changes nothing.
TRUSTED_PROXIES = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in env.list("TRUSTED_PROXIES", default=[])
    if n.strip()
]
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXIES and TRUSTED_PROXY_COUNT:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set TRUSTED_PROXIES or TRUSTED_PROXY_COUNT, not both.")

# --- Auth ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend goes first: a locked-out account or address is refused before any
# password is checked (accounts/lockout.py).
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=12)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": None,  # set per token from API_TOKEN_TTL_HOURS in accounts.services
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
# Phone numbers without a leading "+" are read in this region, then stored as E.164.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="US")

# --- Lockout (django-axes) -------------------------------------------------------------
# Failed logins on the token endpoint, the admin login and note signing are counted per
# account (across addresses) and per client address (across accounts); either reaching
# its limit within the cool-off window locks further attempts until the window passes or
# an Admin unlocks (accounts/lockout.py, docs/security.md).
LOCKOUT_ACCOUNT_FAILURE_LIMIT = env.int("LOCKOUT_ACCOUNT_FAILURE_LIMIT", default=5)
# Higher: a whole clinic may share one address behind NAT.
LOCKOUT_ADDRESS_FAILURE_LIMIT = env.int("LOCKOUT_ADDRESS_FAILURE_LIMIT", default=20)
LOCKOUT_COOLOFF_MINUTES = env.int("LOCKOUT_COOLOFF_MINUTES", default=15)
AXES_ENABLED = True
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # order matters to LockoutHandler
AXES_FAILURE_LIMIT = LOCKOUT_ACCOUNT_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins belong to the audit trail, not here
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# Masked in axes' records and log lines (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# --- Admin console ---------------------------------------------------------------------
# Where the admin lives ("admin/" by default); a less obvious path cuts scanner noise.
DJANGO_ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/").strip("/") + "/"
# Admin-role (and superuser) accounts must sign in with a TOTP code (django-otp); those
# without a device are sent to enrol first. Production defaults to true.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Clinic")

# --- Sessions (the admin console) ------------------------------------------------------
# A session ends after this many idle minutes, and in any case SESSION_MAX_HOURS after
# sign-in (core.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Browser-facing headers ------------------------------------------------------------
# CORS is closed unless an origin is listed (scheme://host[:port], comma-separated).
CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False  # bearer tokens, not cookies, cross origin
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-request-id",
    "x-access-reason",
    "x-simulation-mode",
)
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Location"]
# One policy for every HTML page (admin, API docs, printable summary): our own origin
# only, no inline script; inline styles are allowed because the admin and the printable
# page use style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Internationalisation and time -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The clinic's own calendar: "a day" in filters and scheduling means a day here.
CLINIC_TIME_ZONE = env("CLINIC_TIME_ZONE", default="UTC")

# The staff console's branding (the Django admin).
CLINIC_NAME = env("CLINIC_NAME", default="Clinic")
ADMIN_SITE_HEADER = env("ADMIN_SITE_HEADER", default=f"{CLINIC_NAME} staff console")
ADMIN_SITE_TITLE = env("ADMIN_SITE_TITLE", default=f"{CLINIC_NAME} console")
ADMIN_INDEX_TITLE = env("ADMIN_INDEX_TITLE", default="Today at the clinic")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Scheduling ------------------------------------------------------------------------
# Free start times (availability, conflict suggestions) lie on a grid of this many
# minutes counted from each opening time.
SCHEDULING_SLOT_MINUTES = env.int("SCHEDULING_SLOT_MINUTES", default=15)
# Appointments start at most this many days from now (400 too_far_ahead beyond).
SCHEDULING_MAX_DAYS_AHEAD = env.int("SCHEDULING_MAX_DAYS_AHEAD", default=730)
# When the clinic is open, in CLINIC_TIME_ZONE: "<days> <HH:MM-HH:MM>[,<HH:MM-HH:MM>...]"
# rules separated by ";", days as a range or a comma list, e.g.
# "mon-fri 08:00-12:00,13:00-18:00; sat 09:00-13:00" (see appointments.hours).
CLINIC_OPENING_HOURS = env("CLINIC_OPENING_HOURS", default="mon-fri 08:00-18:00")

# --- Patient summaries -----------------------------------------------------------------
# "openai" (the official client; any OpenAI-compatible server via OPENAI_BASE_URL) or
# "local" (the built-in offline summarizer, the default when no API key is set).
OPENAI_API_KEY: str | None = env("OPENAI_API_KEY", default=None)
OPENAI_BASE_URL: str | None = env("OPENAI_BASE_URL", default=None)
SUMMARY_PROVIDER: str = env("SUMMARY_PROVIDER", default="openai" if OPENAI_API_KEY else "local")
SUMMARY_MODEL: str = env("SUMMARY_MODEL", default="gpt-4o-mini")
SUMMARY_TIMEOUT_SECONDS: float = env.float("SUMMARY_TIMEOUT_SECONDS", default=30.0)
# Retries of 429, 5xx and timeouts, with exponential backoff and full jitter.
SUMMARY_MAX_RETRIES: int = env.int("SUMMARY_MAX_RETRIES", default=3)
SUMMARY_BACKOFF_BASE_SECONDS: float = env.float("SUMMARY_BACKOFF_BASE_SECONDS", default=0.5)
SUMMARY_BACKOFF_MAX_SECONDS: float = env.float("SUMMARY_BACKOFF_MAX_SECONDS", default=8.0)
# No name, MRN, email, phone or birthday leaves the process (see docs/summaries.md).
SUMMARY_DEIDENTIFY: bool = env.bool("SUMMARY_DEIDENTIFY", default=True)
# Jobs queued or running for longer are marked failed (timed_out) by the periodic sweep.
SUMMARY_STALE_RUNNING_MINUTES: int = env.int("SUMMARY_STALE_RUNNING_MINUTES", default=15)

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Clinical notes --------------------------------------------------------------------
# Uploaded note files larger than this are refused with 413 before the body is parsed.
NOTES_MAX_UPLOAD_MB = env.int("NOTES_MAX_UPLOAD_MB", default=10)
# Longest note text kept: typed content above it is a 400; text read from a file or by
# OCR is cut here (and the note says so in extraction_error).
NOTES_MAX_CONTENT_CHARS = env.int("NOTES_MAX_CONTENT_CHARS", default=200_000)
# PDFs with more pages are refused at intake (400 too_many_pages).
NOTES_PDF_MAX_PAGES = env.int("NOTES_PDF_MAX_PAGES", default=50)
# Most bytes one PDF stream may decompress to (guards against compression bombs).
NOTES_PDF_MAX_STREAM_BYTES = env.int("NOTES_PDF_MAX_STREAM_BYTES", default=20_000_000)
# Largest image (width x height) handed to OCR.
NOTES_MAX_IMAGE_PIXELS = env.int("NOTES_MAX_IMAGE_PIXELS", default=40_000_000)
# Most frames (pages of a TIFF, frames of an animated PNG) one image may have; every
# frame is measured against NOTES_MAX_IMAGE_PIXELS.
NOTES_MAX_IMAGE_FRAMES = env.int("NOTES_MAX_IMAGE_FRAMES", default=50)
# Wall-clock budget for reading one file (PDF pages and OCR together).
NOTES_EXTRACTION_TIME_LIMIT_SECONDS = env.float(
    "NOTES_EXTRACTION_TIME_LIMIT_SECONDS", default=120.0
)
# The Tesseract binary (a name looked up on PATH, or a path). When it cannot be found,
# scanned notes are kept with extraction_status "needs_transcription".
NOTES_TESSERACT_CMD = env("NOTES_TESSERACT_CMD", default="tesseract")
NOTES_TESSERACT_LANG = env("NOTES_TESSERACT_LANG", default="eng")
NOTES_OCR_TIMEOUT_SECONDS = env.float("NOTES_OCR_TIMEOUT_SECONDS", default=60.0)

# --- Bulk import and export ----------------------------------------------------------
# Import files up to this many data rows are answered within the request; larger ones
# become an ImportJob run by a Celery worker (202 + Location).
IMPORT_SYNC_MAX_ROWS = env.int("IMPORT_SYNC_MAX_ROWS", default=2_000)
# Larger import files are refused with 413.
IMPORT_MAX_FILE_MB = env.int("IMPORT_MAX_FILE_MB", default=100)
# A running import job whose worker has not reported for this long is marked failed
# (worker_lost) by the periodic sweep; it can then be retried.
IMPORT_STALE_MINUTES = env.int("IMPORT_STALE_MINUTES", default=15)

# --- REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view must declare its own permission classes; this default denies anything
    # that forgets (a test walks the URL patterns to prove none does).
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.DenyAll"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.ListFilterBackend",
        "core.filters.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_TOKEN_THROTTLE_RATE", default="10/min"),
        # Signing re-checks the password: throttle it like a login.
        "note_sign": env("NOTES_SIGN_THROTTLE_RATE", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Content negotiation uses the Accept header only; no ?format= override.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic API",
    "DESCRIPTION": (
        "REST API of the clinic backend: patients and (as they land) doctors, appointments, "
        "outcomes, interactions, clinical notes and summaries.\n\n"
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Bearer <token>`. "
        "Every error has the shape `{code, detail, errors, request_id}`; see the `Error` schema."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Who may read the schema and the docs: anyone while API_DOCS_PUBLIC, else a
    # signed-in user (admin session or bearer token). Production defaults to private.
    "SERVE_PERMISSIONS": ["core.permissions.ApiDocsAccess"],
    "SERVE_AUTHENTICATION": [
        "core.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enum components as drf-spectacular makes them, then links from creates to the
    # operations on what they created (core.schema.add_links).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "NoteStatusEnum": "notes.models.NoteStatus",
        "ExtractionStatusEnum": "notes.models.ExtractionStatus",
        "SummaryStatusEnum": "summaries.models.SummaryStatus",
        "SummaryErrorCodeEnum": "summaries.api.serializers.SUMMARY_ERROR_CODES",
    },
}

# Schema and docs readable without signing in (true except under production settings).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

# --- Audit trail ----------------------------------------------------------------------
# "Break the glass": reading a patient the user has no appointment with (as the doctor
# linked to their account) needs an X-Access-Reason header, recorded with the event.
AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT = env.bool(
    "AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT", default=False
)

# Reads' events: "spool" writes each to a crash-safe local spool before the response and
# moves them into the chain in batches (audit/spool.py); "sync" appends each to the chain
# before the response (one write transaction per read).
AUDIT_READ_MODE = env("AUDIT_READ_MODE", default="spool")
# The spool's directory: on storage that outlives the process (a volume in containers).
AUDIT_SPOOL_DIR = env("AUDIT_SPOOL_DIR", default=str(BASE_DIR / "var" / "audit-spool"))
# How often each process moves its spooled events into the chain (0: only on demand).
AUDIT_SPOOL_FLUSH_SECONDS = env.float("AUDIT_SPOOL_FLUSH_SECONDS", default=1.0)
# fsync every spooled event (survives power loss, not only a crashed process).
AUDIT_SPOOL_FSYNC = env.bool("AUDIT_SPOOL_FSYNC", default=False)

# --- Chaos testing ---------------------------------------------------------------------
CHAOS_ENABLED = env.bool("CHAOS_ENABLED", default=False)
CHAOS_LATENCY_SECONDS = env.float("CHAOS_LATENCY_SECONDS", default=2.0)

# --- Metrics ---------------------------------------------------------------------------
# GET /metrics answers callers from these networks, or any caller with the token.
METRICS_TOKEN: str = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
    if n.strip()
]

# --- Health ----------------------------------------------------------------------------
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")  # "json" in production


def build_logging(log_format: str, level: str) -> dict[str, object]:
    """Logging config: one handler on stdout, JSON or human-readable."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "core.logging.RequestIdFilter"},
            "redact_request": {"()": "core.logging.RedactRequestFilter"},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "text": {
                "format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's own request logger repeats what our access log says, with the raw
            # path (which may carry identifiers); keep it to errors.
            "django.request": {
                "level": "ERROR",
                "propagate": True,
                "filters": ["redact_request"],
            },
            # runserver's own line contains the query string (which can hold a searched
            # name); the access log in core.middleware replaces it.
            "django.server": {"level": "CRITICAL", "propagate": True},
        },
    }


LOGGING = build_logging(LOG_FORMAT, LOG_LEVEL)
