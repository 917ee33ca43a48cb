"""Prometheus metrics: HTTP, database, Celery, and the domain counters.

Metrics are process-local by default. Under gunicorn with several workers (and Celery's
prefork pool) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty writable directory shared by
the processes of one container; ``/metrics`` then aggregates them.

Domain code records what happened through the small helpers at the bottom, called after
the transaction commits, so a rolled-back action is never counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db import transaction
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP and database ---------------------------------------------------------------------
http_requests = Counter(
    "clinic_http_requests_total",
    "HTTP requests by route pattern, method and status.",
    ["route", "method", "status"],
)
http_latency = Histogram(
    "clinic_http_request_duration_seconds",
    "HTTP request latency by route pattern and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
db_queries = Counter(
    "clinic_db_queries_total",
    "Database queries executed while serving requests, by route.",
    ["route"],
)

# --- Celery ----------------------------------------------------------------------------
celery_tasks = Counter(
    "clinic_celery_tasks_total",
    "Celery tasks finished, by task name and outcome.",
    ["task", "outcome"],
)
celery_task_duration = Histogram(
    "clinic_celery_task_duration_seconds",
    "Celery task run time by task name.",
    ["task"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)

# --- Domain ----------------------------------------------------------------------------
appointments_booked = Counter("clinic_appointments_booked_total", "Appointments booked.")
appointment_conflicts = Counter(
    "clinic_appointment_conflicts_total",
    "Bookings rejected as double bookings, by kind.",
    ["kind"],
)
interactions_recorded = Counter(
    "clinic_interactions_recorded_total", "Interactions recorded, by outcome code.", ["outcome"]
)
notes_processed = Counter(
    "clinic_notes_processed_total", "Notes processed, by extraction status.", ["status"]
)
summaries_finished = Counter(
    "clinic_summaries_total",
    "Summaries finished, by provider and status.",
    ["provider", "status"],
)
summary_latency = Histogram(
    "clinic_summary_generation_seconds",
    "Summary generation time by provider.",
    ["provider"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)
summary_tokens = Counter(
    "clinic_summary_tokens_total",
    "LLM tokens used for summaries, by provider and kind.",
    ["provider", "kind"],
)


class QueueDepthCollector(Collector):
    """``clinic_celery_queue_length{queue}``: messages waiting in each Celery queue.

    Read from the broker at scrape time (``LLEN`` of the queue's Redis list, the list the
    Redis transport keeps per queue), so every API replica reports the same number and
    the worker autoscaler (``deploy/k8s/base/worker-hpa.yaml``) can act on it. Messages a
    worker has taken but not yet acknowledged are not in the list, so the value is the
    backlog, not the work in progress. Nothing is reported without a Redis broker, and
    ``clinic_celery_broker_up`` is 0 when the broker does not answer.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        broker = getattr(settings, "CELERY_BROKER_URL", None)
        if not broker or not str(broker).startswith(("redis://", "rediss://")):
            return
        up = GaugeMetricFamily(
            "clinic_celery_broker_up", "1 when the Celery broker answered this scrape."
        )
        depth = GaugeMetricFamily(
            "clinic_celery_queue_length",
            "Messages waiting in the Celery queue (the broker's list length).",
            labels=["queue"],
        )
        timeout = settings.REDIS_TIMEOUT_SECONDS
        try:
            client = redis.Redis.from_url(
                broker, socket_connect_timeout=timeout, socket_timeout=timeout
            )
            with client:
                for queue in celery_queue_names():
                    depth.add_metric([queue], float(client.llen(queue)))
        except redis.RedisError:
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield depth


def celery_queue_names() -> list[str]:
    """The queues workers consume: the default queue plus any declared ones (read from
    the settings the Celery app is configured from, so core does not import config)."""
    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")}
    names.update(q.name for q in (getattr(settings, "CELERY_TASK_QUEUES", None) or ()))
    return sorted(names)


queue_depth = QueueDepthCollector()
REGISTRY.register(queue_depth)


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(action)


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(queue_depth)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
