"""Settings for the test suite (pytest). SQLite unless DATABASE_URL says otherwise."""

import tempfile

from .base import *  # noqa: F403
from .base import env

ENVIRONMENT = "test"
DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
CHAOS_ENABLED = True
CHAOS_LATENCY_SECONDS = 0.0
# Uploaded files written by the tests; a per-run temporary directory, never a fixed path.
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=tempfile.mkdtemp(prefix="clinic-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Tasks run in-process in tests even when REDIS_URL is set (CI's PostgreSQL + Redis run);
# the tests that are about the queue start a real worker and switch this off themselves.
CELERY_TASK_ALWAYS_EAGER = True
# Never call a real LLM from the tests, whatever the environment says; the tests that are
# about the OpenAI provider point it at a local fake server.
SUMMARY_PROVIDER = "local"
OPENAI_API_KEY = None
OPENAI_BASE_URL = None
SUMMARY_BACKOFF_BASE_SECONDS = 0.001
SUMMARY_BACKOFF_MAX_SECONDS = 0.004
# Each read's event is in the table when the response arrives (the spool has its own
# tests, audit/tests/test_spool.py).
AUDIT_READ_MODE = "sync"
AUDIT_SPOOL_DIR = tempfile.mkdtemp(prefix="clinic-test-audit-spool-")
AUDIT_SPOOL_FLUSH_SECONDS = 0.0
