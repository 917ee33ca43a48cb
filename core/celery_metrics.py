"""Celery task metrics (counts, failures, durations) and the worker's /metrics server.

Connected from ``config.celery_app``. With ``CELERY_METRICS_PORT`` set, the worker's main
process serves the exposition on that port (aggregating its pool processes when
``PROMETHEUS_MULTIPROC_DIR`` is set).
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_ready
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from core.metrics import celery_task_duration, celery_tasks

_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    name = getattr(task, "name", "unknown")
    celery_tasks.labels(task=name, outcome=(state or "UNKNOWN").lower()).inc()
    started = _started.pop(task_id or "", None)
    if started is not None:
        celery_task_duration.labels(task=name).observe(time.perf_counter() - started)


@worker_ready.connect
def _serve_worker_metrics(**_: Any) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(int(port), registry=registry)
    else:
        start_http_server(int(port))
