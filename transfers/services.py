"""Imports and exports as services: what the API, the admin and the management
commands call.

A file of up to ``IMPORT_SYNC_MAX_ROWS`` data rows is imported within the call and its
report returned. A larger one is stored and becomes an :class:`ImportJob` that a Celery
worker runs (``transfers.processing``). A job's rows and its ``succeeded`` state commit
in one transaction, so a job is either done or has written nothing: a failed job can be
retried without duplicating a row.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from kombu.exceptions import OperationalError as BrokerError

from core.errors import Conflict, ServiceUnavailable
from transfers.audit_hook import record_import
from transfers.errors import TransferErrorCode as Code
from transfers.formats import FileRejected, parse
from transfers.importing import (
    INTERACTION_OPTIONAL,
    INTERACTION_READ_ONLY,
    INTERACTION_REQUIRED,
    PATIENT_OPTIONAL,
    PATIENT_READ_ONLY,
    PATIENT_REFS,
    PATIENT_REQUIRED,
    ImportOptions,
    ImportReport,
    check_columns,
    run_import,
)
from transfers.models import ImportJob, ImportKind, ImportStatus

logger = logging.getLogger("clinic.transfers")


def max_file_bytes() -> int:
    return int(settings.IMPORT_MAX_FILE_MB) * 1024 * 1024


def ensure_file_size(size: int) -> None:
    if size > max_file_bytes():
        raise FileRejected(
            Code.FILE_TOO_LARGE,
            f"Import files are limited to {settings.IMPORT_MAX_FILE_MB} MB.",
            status=413,
        )


def _precheck_columns(kind: str, columns: Any, options: ImportOptions) -> None:
    """The file-level column checks, answered at once even for a file run as a job."""
    from transfers.formats import ParsedFile

    parsed = ParsedFile("", list(columns), [])
    if kind == ImportKind.PATIENTS:
        check_columns(
            parsed,
            required=PATIENT_REQUIRED,
            known=(*PATIENT_REQUIRED, *PATIENT_OPTIONAL, *PATIENT_READ_ONLY),
            ignore_unknown=options.ignore_unknown_columns,
        )
    else:
        check_columns(
            parsed,
            required=INTERACTION_REQUIRED,
            one_of=PATIENT_REFS,
            known=(*INTERACTION_REQUIRED, *INTERACTION_OPTIONAL, *INTERACTION_READ_ONLY),
            ignore_unknown=options.ignore_unknown_columns,
        )


def import_submit(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    actor: User,
    request: HttpRequest | None = None,
) -> ImportReport | ImportJob:
    """Import ``data`` now (small files: the report) or queue it (large: the job).

    Raises :class:`FileRejected` for a file that cannot be imported at all, 503
    ``queue_unavailable`` when a job cannot be queued (then no job is kept)."""
    ensure_file_size(len(data))
    parsed = parse(data)
    if len(parsed.rows) <= settings.IMPORT_SYNC_MAX_ROWS:

        def record(report: ImportReport) -> None:
            record_import(report, actor=actor, kind=kind, request=request)

        # A written import records its event inside the write transaction (``finish``):
        # if the event cannot be stored, no row is imported. One that wrote nothing (a
        # dry run, a rejected file) is recorded afterwards.
        report = run_import(kind=kind, data=parsed, options=options, actor=actor, finish=record)
        if not report.written:
            record(report)
        return report
    _precheck_columns(kind, parsed.columns, options)
    job = ImportJob(
        kind=kind,
        file_name=file_name[:255],
        file_format=parsed.format,
        options=options.as_dict(),
        total_rows=len(parsed.rows),
        created_by=actor,
    )
    job.file.save(f"{uuid.uuid4().hex}.{parsed.format}", ContentFile(data), save=False)
    job.save()
    _enqueue(job)
    job.refresh_from_db()  # an eager run (no broker) has finished it already
    return job


def _enqueue(job: ImportJob) -> None:
    from transfers.tasks import run_import_job

    try:
        run_import_job.apply_async(args=(str(job.pk),), retry=False)
    except BrokerError as exc:
        logger.warning("import job %s not queued: broker unavailable (%s)", job.pk, exc)
        if job.attempts == 0:
            job.file.delete(save=False)
            job.delete()
        else:
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
        raise ServiceUnavailable(
            "The job queue is unavailable, so the import could not be queued. Try again later.",
            code=Code.QUEUE_UNAVAILABLE,
        ) from exc


def import_job_retry(*, job: ImportJob, actor: User) -> ImportJob:
    """Queue a failed job again. Safe: a failed job has written nothing.

    The job is locked and saved (not claimed with a queryset ``update()``), so the
    request's audit event is written in the same transaction as the change."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.FAILED:
            raise Conflict(
                f"Only a failed import can be retried; this one is {job.status}.",
                code=Code.JOB_NOT_RETRYABLE,
                status=job.status,
            )
        reset: dict[str, Any] = {
            "status": ImportStatus.QUEUED,
            "processed_rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "errors": [],
            "failure_code": "",
            "failure_detail": "",
            "started_at": None,
            "heartbeat_at": None,
            "finished_at": None,
        }
        for name, value in reset.items():
            setattr(job, name, value)
        job.save(update_fields=list(reset))
    _enqueue(job)
    job.refresh_from_db()
    return job
