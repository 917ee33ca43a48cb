"""Import jobs on a real Celery worker and the real Redis broker (PostgreSQL run): a
job completes; a worker killed in the middle of writing leaves no row behind, and the
job, once failed, is retried to completion. These tests commit, like production."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from core.permissions import ROLE_GROUPS
from patients.models import Patient
from transfers.models import ImportJob, ImportStatus
from transfers.processing import import_jobs_sweep
from transfers.tests.conftest import post_file
from transfers.tests.test_jobs import patient_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

BLOCKING_EMAIL = "held-by-another-transaction@example.org"


@pytest.fixture(autouse=True)
def role_groups(db: None) -> None:
    for name in ROLE_GROUPS.values():
        Group.objects.get_or_create(name=name)


def _forget_broker_connections() -> None:
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker() -> Iterator[Celery]:
    """The real Redis broker instead of eager execution, for one test."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    _forget_broker_connections()
    celery_app.conf.update(broker_url=os.environ["REDIS_URL"], task_always_eager=False)
    celery_app.control.purge()
    yield celery_app
    _forget_broker_connections()
    celery_app.conf.update(broker_url=saved[0], task_always_eager=saved[1])


def wait_for(condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.05)


def status_of(job_id: str) -> str:
    return ImportJob.objects.values_list("status", flat=True).get(pk=job_id)


def test_a_real_worker_runs_an_import_job(
    broker: Celery, admin_client_api: APIClient, settings: Any
) -> None:
    from celery.contrib.testing.worker import start_worker

    settings.IMPORT_SYNC_MAX_ROWS = 10
    response = post_file(admin_client_api, "/api/v1/patients/import/", patient_rows(300))
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert status_of(job_id) == ImportStatus.QUEUED  # published, no worker yet

    with start_worker(broker, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_for(lambda: status_of(job_id) == ImportStatus.SUCCEEDED)

    job = admin_client_api.get(response["Location"]).json()
    assert (job["total_rows"], job["processed_rows"], job["created"]) == (300, 300, 300)
    assert job["attempts"] == 1
    assert Patient.objects.count() == 300
    found = admin_client_api.get("/api/v1/patients/", {"search": "first299"}).json()
    assert found["results"][0]["last_name"] == "Last299"  # best match first


def _database_dsn() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"


def _start_worker_process() -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_dsn().replace("postgresql://", "postgres://"),
        "DJANGO_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _copy_backends(observer: psycopg.Connection[Any], *, waiting: bool) -> int:
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query ILIKE 'COPY patients_patient%%'"
    )
    if waiting:
        query += " AND wait_event_type = 'Lock'"
    row = observer.execute(query).fetchone()
    return int(row[0]) if row else 0


def test_a_worker_killed_mid_import_leaves_no_rows_and_the_job_is_retryable(
    broker: Celery, admin_client_api: APIClient, settings: Any
) -> None:
    """Another transaction holds an uncommitted patient with the email of row 2,500, so
    the worker's COPY waits there with 2,499 rows written in its transaction; the test
    kills the worker at that moment."""
    from celery.contrib.testing.worker import start_worker

    settings.IMPORT_SYNC_MAX_ROWS = 10
    content = patient_rows(3000).replace("p2500@example.org", BLOCKING_EMAIL)
    observer = psycopg.connect(_database_dsn(), autocommit=True)
    blocker = psycopg.connect(_database_dsn())
    now = timezone.now()
    blocker.execute(
        "INSERT INTO patients_patient (id, mrn, first_name, last_name, date_of_birth, gender, "
        "email, search_document, created_at, updated_at) "
        "VALUES (%s, 'HOLD-1', 'Held', 'Row', '1970-01-01', 'unknown', %s, '', %s, %s)",
        (uuid.uuid4(), BLOCKING_EMAIL, now, now),
    )
    worker = _start_worker_process()
    try:
        response = post_file(admin_client_api, "/api/v1/patients/import/", content)
        assert response.status_code == 202
        job_id = response.json()["id"]

        wait_for(lambda: _copy_backends(observer, waiting=True) == 1, timeout=90)
        assert status_of(job_id) == ImportStatus.RUNNING
        assert ImportJob.objects.get(pk=job_id).processed_rows == 3000  # validated

        worker.kill()
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        blocker.rollback()
        blocker.close()
    # The orphaned COPY resumes, finds its client gone and rolls back.
    wait_for(lambda: _copy_backends(observer, waiting=False) == 0)
    observer.close()

    assert Patient.objects.count() == 0
    assert status_of(job_id) == ImportStatus.RUNNING  # nobody has noticed yet
    # The heartbeat is fresh, but the dead worker's session lock is gone: the sweep
    # fails the job now, not IMPORT_STALE_MINUTES later.
    beat = ImportJob.objects.get(pk=job_id).heartbeat_at
    assert beat is not None
    assert beat > timezone.now() - timedelta(minutes=1)
    assert import_jobs_sweep() == 1
    job = admin_client_api.get(f"/api/v1/imports/{job_id}/").json()
    assert (job["status"], job["failure_code"], job["created"]) == ("failed", "worker_lost", 0)

    retried = admin_client_api.post(f"/api/v1/imports/{job_id}/retry/")
    assert retried.status_code == 202
    with start_worker(broker, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_for(lambda: status_of(job_id) == ImportStatus.SUCCEEDED)

    assert Patient.objects.count() == 3000
    assert Patient.objects.filter(email=BLOCKING_EMAIL).count() == 1
    assert ImportJob.objects.get(pk=job_id).attempts == 2
