"""The Celery application.

With a broker (``CELERY_BROKER_URL`` or ``REDIS_URL``) tasks go to Redis and a worker
runs them; without one, settings set ``CELERY_TASK_ALWAYS_EAGER`` and tasks run
in-process, which is the embedded default.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task counts, failures and durations for Prometheus (see core.celery_metrics).
import core.celery_metrics  # noqa: E402, F401
