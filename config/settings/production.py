"""Production settings: what the container image runs.

Secrets and hosts have no defaults here: a deploy that forgets one fails at start with a
message naming the variable, instead of running with a development value.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import build_logging, env


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value.strip():
        raise ImproperlyConfigured(
            f"{name} must be set in the environment for production settings."
        )
    return value


# Placeholder values from .env.example: a deploy that copied the file without editing it
# must not start.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "placeholder")


def _not_placeholder(name: str, value: str) -> str:
    if any(marker in value.lower() for marker in PLACEHOLDER_MARKERS):
        raise ImproperlyConfigured(
            f"{name} still holds the placeholder from .env.example; set a real value."
        )
    return value


ENVIRONMENT = "production"
DEBUG = False
SECRET_KEY = _not_placeholder("DJANGO_SECRET_KEY", _required("DJANGO_SECRET_KEY"))
METRICS_TOKEN = _not_placeholder("METRICS_TOKEN", env("METRICS_TOKEN", default=""))
ALLOWED_HOSTS = [h.strip() for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
# In Kubernetes the pod's own address (from the downward API) is a valid Host, so that
# Prometheus can scrape /metrics pod by pod.
_pod_ip = env.str("POD_IP", default="").strip()
if _pod_ip:
    ALLOWED_HOSTS.append(_pod_ip)
_required("DATABASE_URL")  # the database itself is read in base.py from the same variable
CHAOS_ENABLED = False
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# --- HTTPS and cookies -----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Health checks from the orchestrator arrive over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = build_logging(env("LOG_FORMAT", default="json"), env("DJANGO_LOG_LEVEL", default="INFO"))
