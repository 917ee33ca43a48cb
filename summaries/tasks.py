"""Celery tasks: load by id, call a service, nothing more."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from summaries.runs import RunOutcome, claim_lease, summary_run, summary_sweep_stuck


@shared_task(bind=True, acks_late=True, max_retries=None)
def generate_summary_task(self: Any, summary_id: str) -> str:
    """Generate one summary. Safe to deliver twice: a finished job is left alone, and a
    job another worker is running is looked at again once that worker's claim expires
    (if that worker died, this delivery then completes the job)."""
    outcome = summary_run(summary_id=summary_id)
    if outcome == RunOutcome.BUSY and not self.request.is_eager:
        raise self.retry(countdown=int(claim_lease().total_seconds()) + 5)
    return outcome.value


@shared_task(acks_late=True)
def sweep_stuck_summaries() -> int:
    """Periodic (Celery beat): fail jobs stuck queued or running; they can be retried."""
    return summary_sweep_stuck()
