"""Import jobs: files above IMPORT_SYNC_MAX_ROWS, run by a worker, with progress,
paginated errors, failure and retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import system_actor
from patients.models import Patient
from transfers.importing import ImportOptions, run_import
from transfers.models import ImportJob, ImportStatus
from transfers.processing import import_jobs_sweep
from transfers.tests.conftest import Upload

pytestmark = pytest.mark.django_db


def patient_rows(count: int, *, bad_every: int = 0) -> str:
    lines = ["first_name,last_name,date_of_birth,email"]
    for n in range(1, count + 1):
        born = "not-a-date" if bad_every and n % bad_every == 0 else "1980-01-01"
        lines.append(f"First{n},Last{n},{born},p{n}@example.org")
    return "\n".join(lines) + "\n"


def test_a_large_file_becomes_a_job(
    import_patients: Upload, admin_api: APIClient, settings: Any
) -> None:
    """Without a broker (the embedded default) the job runs at once in-process."""
    settings.IMPORT_SYNC_MAX_ROWS = 5

    response = import_patients(patient_rows(12))

    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/imports/{job_id}/"
    job = admin_api.get(response["Location"]).json()
    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["processed_rows"], job["created"]) == (12, 12, 12)
    assert job["started_at"] <= job["finished_at"]
    assert Patient.objects.count() == 12


def test_a_jobs_errors_are_paginated(
    import_patients: Upload, admin_api: APIClient, settings: Any
) -> None:
    settings.IMPORT_SYNC_MAX_ROWS = 5

    response = import_patients(patient_rows(20, bad_every=4), on_error="skip")

    url = response["Location"]
    first = admin_api.get(url, {"page_size": 2}).json()
    assert (first["status"], first["created"], first["skipped"]) == ("succeeded", 15, 5)
    assert first["errors"]["count"] == first["error_count"] == 5
    assert [e["row"] for e in first["errors"]["results"]] == [5, 9]
    second = admin_api.get(first["errors"]["next"]).json()
    assert [e["row"] for e in second["errors"]["results"]] == [13, 17]
    listed = admin_api.get("/api/v1/imports/").json()["results"]
    assert [j["id"] for j in listed] == [first["id"]]
    assert "errors" not in listed[0]


def test_an_invalid_large_file_fails_and_writes_nothing(
    import_patients: Upload, admin_api: APIClient, settings: Any
) -> None:
    settings.IMPORT_SYNC_MAX_ROWS = 5

    job = admin_api.get(import_patients(patient_rows(10, bad_every=10))["Location"]).json()

    assert (job["status"], job["failure_code"], job["error_count"]) == (
        "failed",
        "import_rejected",
        1,
    )
    assert job["errors"]["results"][0]["row"] == 11
    assert Patient.objects.count() == 0


def test_missing_columns_are_refused_before_a_job_is_made(
    import_patients: Upload, settings: Any
) -> None:
    settings.IMPORT_SYNC_MAX_ROWS = 1
    response = import_patients("first_name,last_name\nA,B\nC,D\n")
    assert (response.status_code, response.json()["code"]) == (400, "missing_columns")
    assert ImportJob.objects.count() == 0


def test_progress_is_reported_every_5000_rows() -> None:
    seen: list[int] = []
    parsed = patient_rows(12_000).encode()

    run_import(
        kind="patients",
        data=parsed,
        options=ImportOptions(dry_run=True),
        actor=system_actor(),
        progress=seen.append,
    )

    assert seen == [5000, 10000, 12000]


def test_a_stale_running_job_is_failed_and_can_be_retried(
    admin_api: APIClient, import_patients: Upload, settings: Any
) -> None:
    settings.IMPORT_SYNC_MAX_ROWS = 2
    job = ImportJob.objects.get(pk=import_patients(patient_rows(3)).json()["id"])
    Patient.objects.all().delete()
    long_ago = timezone.now() - timedelta(minutes=settings.IMPORT_STALE_MINUTES + 1)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=long_ago, created=0
    )
    busy = admin_api.post(f"/api/v1/imports/{job.pk}/retry/")
    assert (busy.status_code, busy.json()["code"]) == (409, "job_not_retryable")

    assert import_jobs_sweep() == 1

    failed = admin_api.get(f"/api/v1/imports/{job.pk}/").json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "worker_lost")
    retried = admin_api.post(f"/api/v1/imports/{job.pk}/retry/")
    assert retried.status_code == 202
    assert retried.json()["status"] == "succeeded"  # eager: run within the request
    assert retried.json()["attempts"] == 2
    assert Patient.objects.count() == 3


@pytest.mark.parametrize("role", ["viewer", "provider", "anonymous"])
def test_only_admins_import_export_and_see_jobs(
    role: str, client_for: Any, api_client: APIClient, settings: Any
) -> None:
    from core.permissions import Role

    client = api_client if role == "anonymous" else client_for(Role.from_label(role))
    expected = 401 if role == "anonymous" else 403
    from transfers.tests.conftest import post_file

    urls = [
        client.get("/api/v1/patients/export/"),
        client.get("/api/v1/interactions/export/"),
        client.get("/api/v1/imports/"),
        post_file(client, "/api/v1/patients/import/", patient_rows(1)),
        post_file(client, "/api/v1/interactions/import/", "patient_id,outcome,occurred_at\n"),
    ]
    assert [r.status_code for r in urls] == [expected] * 5
    assert Patient.objects.count() == 0


@pytest.mark.postgres
def test_a_running_job_without_a_live_runner_is_taken_over_by_a_redelivery(
    import_patients: Upload, settings: Any
) -> None:
    """A redelivered message finds the job ``running``: while another session holds the
    job's runner lock it leaves it alone; once that lock is free (the worker's session
    ended) it runs the job, which had written nothing."""
    import psycopg
    from django.db import connection

    from transfers.processing import _runner_key, import_job_run

    settings.IMPORT_SYNC_MAX_ROWS = 5
    job_id = import_patients(patient_rows(12), dry_run=True).json()["id"]
    ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.RUNNING)
    runner = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        runner.execute("SELECT pg_advisory_lock(%s)", (_runner_key(job_id),))
        assert import_job_run(job_id=job_id) == ImportStatus.RUNNING
        assert import_jobs_sweep() == 0  # its runner is alive
    finally:
        runner.close()  # the worker's session ends

    assert import_job_run(job_id=job_id) == ImportStatus.SUCCEEDED
    job = ImportJob.objects.get(pk=job_id)
    assert (job.attempts, job.processed_rows, Patient.objects.count()) == (2, 12, 0)
