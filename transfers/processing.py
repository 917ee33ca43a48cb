"""The body of an import job (what a worker does): claim, validate with progress, write
the rows and the job's final state in one transaction."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.actors import system_actor
from core.errors import ApiError
from transfers.audit_hook import record_import
from transfers.errors import TransferErrorCode as Code
from transfers.formats import FileRejected
from transfers.importing import ImportOptions, ImportReport, run_import
from transfers.models import ImportJob, ImportStatus

logger = logging.getLogger("clinic.transfers")


def _finish(job: ImportJob, report: ImportReport) -> None:
    job.status = ImportStatus.SUCCEEDED
    job.processed_rows = report.total_rows
    job.created, job.updated = report.created, report.updated
    job.unchanged, job.skipped = report.unchanged, report.skipped
    job.errors = report.errors
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save()


def _fail(job: ImportJob, code: str, detail: str, errors: list[dict] | None = None) -> None:
    job.status = ImportStatus.FAILED
    job.failure_code, job.failure_detail = code, detail
    job.errors = errors or []
    job.finished_at = timezone.now()
    job.save()


def _runner_key(job_id: uuid.UUID | str) -> int:
    """The job's PostgreSQL advisory lock key (a signed 64-bit number from its UUID)."""
    return uuid.UUID(str(job_id)).int % (1 << 63)


def _hold_runner_lock(job_id: uuid.UUID | str) -> bool:
    """Mark this database session as the job's runner for as long as it lives.

    A session-level advisory lock: PostgreSQL releases it when the worker's connection
    ends, however the worker ended (SIGKILL, OOM, a lost node), so a free lock on a
    ``running`` job means its worker is gone — known at once, without waiting for the
    heartbeat to go stale."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_runner_key(job_id)])
        (taken,) = cursor.fetchone()
    return bool(taken)


def _release_runner_lock(job_id: uuid.UUID | str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_runner_key(job_id)])


def _runner_alive(job_id: uuid.UUID | str) -> bool:
    """Whether some session still holds the job's runner lock (PostgreSQL only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_runner_key(job_id)])
        (taken,) = cursor.fetchone()
        if taken:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_runner_key(job_id)])
    return not taken


def import_job_run(*, job_id: uuid.UUID | str) -> str:
    """Run a queued job. A job that is not queued (done, failed, or taken by another
    delivery) is left alone — except a ``running`` job whose runner is gone (PostgreSQL:
    its advisory lock is free), which a redelivered message takes over: it wrote nothing.
    Returns the job's final status."""
    if not _hold_runner_lock(job_id):  # a live worker runs it (a duplicate delivery)
        return str(ImportJob.objects.values_list("status", flat=True).get(pk=job_id))
    try:
        return _run_claimed(job_id)
    finally:
        _release_runner_lock(job_id)


def _run_claimed(job_id: uuid.UUID | str) -> str:
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed and connection.vendor == "postgresql":
        # We hold the runner lock, so no live worker runs this job: a running one was
        # lost with its worker (the broker redelivered the message), and is ours now.
        claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
            started_at=now, heartbeat_at=now, processed_rows=0
        )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return str(job.status)
    ImportJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
    job.attempts += 1

    def progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=rows, heartbeat_at=timezone.now())

    options = ImportOptions(**job.options)
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        report = run_import(
            kind=job.kind,
            data=data,
            options=options,
            # Jobs are made by a signed-in user; one whose account was deleted since is
            # finished by the system account.
            actor=job.created_by or system_actor(),
            progress=progress,
            finish=lambda report: _finish_and_record(job, report),
        )
    except FileRejected as exc:
        _fail(job, exc.code, exc.detail)
        return str(job.status)
    except ApiError as exc:
        _fail(job, exc.error_code, str(exc.detail))
        return str(job.status)
    if not report.written:
        # Dry run, or all-or-nothing with invalid rows: the job is done, nothing written.
        if options.dry_run:
            _finish(job, report)
        else:
            _fail(
                job,
                Code.IMPORT_REJECTED,
                f"{len(report.errors)} problem(s) in the file; nothing was imported.",
                report.errors,
            )
            job.processed_rows = report.total_rows
            job.skipped = report.skipped
            job.save(update_fields=["processed_rows", "skipped"])
        _record(job, report)
    return str(job.status)


def _record(job: ImportJob, report: ImportReport) -> None:
    record_import(report, actor=job.created_by, kind=job.kind, job_id=str(job.pk))


def _finish_and_record(job: ImportJob, report: ImportReport) -> None:
    """Inside the import's write transaction: the job's ``succeeded`` state and its audit
    event commit with the rows (an event that cannot be written fails the job, nothing
    imported)."""
    _finish(job, report)
    _record(job, report)


def stale_after() -> timedelta:
    return timedelta(minutes=settings.IMPORT_STALE_MINUTES)


def import_jobs_sweep(*, now: datetime | None = None) -> int:
    """Fail running jobs whose worker is gone; they wrote nothing, so they can be
    retried. On PostgreSQL a job whose runner lock is free is failed at once; elsewhere
    (and as a backstop) a job whose heartbeat is older than ``IMPORT_STALE_MINUTES``.
    Returns how many were failed."""
    now = now or timezone.now()
    lost = ImportJob.objects.filter(
        status=ImportStatus.RUNNING, heartbeat_at__lt=now - stale_after()
    )
    if connection.vendor == "postgresql":
        running = ImportJob.objects.filter(status=ImportStatus.RUNNING).values_list("pk", flat=True)
        dead = [pk for pk in running if not _runner_alive(pk)]
        lost = ImportJob.objects.filter(status=ImportStatus.RUNNING).filter(
            pk__in=[*dead, *lost.values_list("pk", flat=True)]
        )
    return lost.update(
        status=ImportStatus.FAILED,
        failure_code=Code.WORKER_LOST,
        failure_detail="The worker running the import stopped; nothing was written. Retry it.",
        finished_at=now,
    )
