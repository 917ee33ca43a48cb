"""Development settings: the embedded default (`make run`)."""

from .base import *  # noqa: F403
from .base import build_logging, env

ENVIRONMENT = "local"
DEBUG = env.bool("DJANGO_DEBUG", default=True)
CHAOS_ENABLED = env.bool("CHAOS_ENABLED", default=True)

REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
    "core.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
LOGGING = build_logging(env("LOG_FORMAT", default="text"), env("DJANGO_LOG_LEVEL", default="INFO"))
