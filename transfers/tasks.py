"""Celery tasks: load by id, call a service, nothing more."""

from __future__ import annotations

from celery import shared_task

from transfers.processing import import_job_run, import_jobs_sweep


@shared_task(acks_late=True, time_limit=6 * 3600)
def run_import_job(job_id: str) -> str:
    """Run one import job. A second delivery of the same job finds it no longer queued
    and leaves it alone."""
    return import_job_run(job_id=job_id)


@shared_task(acks_late=True)
def sweep_stale_imports() -> int:
    """Periodic (Celery beat): fail jobs whose worker died; they can be retried."""
    return import_jobs_sweep()
