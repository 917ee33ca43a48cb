"""Prometheus metrics: HTTP, database, Celery, and the domain counters.

Metrics are process-local by default. Under gunicorn with several workers (and Celery's
prefork pool) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty writable directory shared by
the processes of one container; ``/metrics`` then aggregates them.

Domain code records what happened through the small helpers at the bottom, called after
the transaction commits, so a rolled-back action is never counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.db import transaction
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

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


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(action)


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
