"""Running a summary job: the worker's part (the body of ``generate_summary_task``).

A run claims the row, rebuilds the record, calls the engine outside any transaction and
stores the outcome only if it still holds the claim; the sweep fails jobs that no worker
finished. Imports run one way: services queue the task, the task calls this.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import metrics
from summaries.engine import (
    ProviderConfig,
    SummaryError,
    SummaryOptions,
    compute_input_hash,
    generate_summary,
)
from summaries.engine.core import ProviderName
from summaries.errors import JobErrorCode
from summaries.models import Summary, SummaryStatus
from summaries.record import build_record

logger = logging.getLogger("clinic.summaries")

RESULT_KEYS = (
    "heading",
    "narrative",
    "diagnoses",
    "medications",
    "allergies",
    "observations",
    "plan",
    "sources",
    "unverified",
)


class RunOutcome(enum.StrEnum):
    DONE = "done"  # this run stored a result or an error
    FINISHED = "finished"  # already succeeded or failed: nothing to do (a duplicate delivery)
    BUSY = "busy"  # another run holds the claim and may still be working
    LOST = "lost"  # the claim was taken away meanwhile (swept or re-claimed): result dropped
    MISSING = "missing"  # no such summary (deleted with its patient)


def provider_config() -> ProviderConfig:
    """The engine's provider settings; the key only ever lives in this object."""
    return ProviderConfig(
        provider=cast(ProviderName, settings.SUMMARY_PROVIDER),
        model=settings.SUMMARY_MODEL,
        api_key=settings.OPENAI_API_KEY or None,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout_seconds=settings.SUMMARY_TIMEOUT_SECONDS,
        max_retries=settings.SUMMARY_MAX_RETRIES,
        backoff_base_seconds=settings.SUMMARY_BACKOFF_BASE_SECONDS,
        backoff_max_seconds=settings.SUMMARY_BACKOFF_MAX_SECONDS,
    )


def claim_lease() -> timedelta:
    """How long a ``running`` row belongs to the run that claimed it.

    No task outlives Celery's hard time limit, so a row running for longer has lost its
    worker and a redelivered task may take it over.
    """
    seconds = settings.CELERY_TASK_TIME_LIMIT or settings.SUMMARY_STALE_RUNNING_MINUTES * 60
    return timedelta(seconds=seconds)


def _claim(summary_id: uuid.UUID | str, now: datetime) -> tuple[Summary | None, RunOutcome]:
    with transaction.atomic():
        summary = (
            Summary.objects.select_for_update()
            .select_related("patient")
            .filter(pk=summary_id)
            .first()
        )
        if summary is None:
            return None, RunOutcome.MISSING
        if summary.is_finished:
            return None, RunOutcome.FINISHED
        if (
            summary.status == SummaryStatus.RUNNING
            and summary.started_at is not None
            and summary.started_at > now - claim_lease()
        ):
            return None, RunOutcome.BUSY
        summary.status = SummaryStatus.RUNNING
        summary.started_at = now
        summary.save(update_fields=["status", "started_at"])
        return summary, RunOutcome.DONE


def summary_run(*, summary_id: uuid.UUID | str) -> RunOutcome:
    """Generate one summary (the body of the Celery task). Idempotent.

    Claims the row (``queued``, or ``running`` past :func:`claim_lease`), builds the record
    as it is now, calls the provider outside any transaction, and stores the result or the
    error (code and message, never the API key) only if this run still holds the claim.
    """
    claimed_at = timezone.now()
    summary, outcome = _claim(summary_id, claimed_at)
    if summary is None:
        return outcome
    options = SummaryOptions.parse(
        audience=summary.audience, length=summary.length, deidentify=summary.deidentified
    )
    record = build_record(summary.patient, now=claimed_at)
    changes: dict[str, Any] = {"input_hash": compute_input_hash(record, options)}
    try:
        result = generate_summary(record, options, provider_config())
    except SummaryError as exc:
        changes.update(
            status=SummaryStatus.FAILED,
            error={"code": exc.code, "message": exc.message},
            attempts=exc.attempts,
        )
    except Exception:
        # A bug must not leave the job running until the sweep; the log has the details.
        logger.exception("summary %s failed unexpectedly", summary_id)
        changes.update(
            status=SummaryStatus.FAILED,
            error={
                "code": JobErrorCode.INTERNAL_ERROR,
                "message": "Unexpected error while generating the summary; see the worker log.",
            },
        )
    else:
        data = result.as_dict()
        changes.update(
            status=SummaryStatus.SUCCEEDED,
            result={key: data[key] for key in RESULT_KEYS},
            provider=result.provider,
            model=result.model[:100],
            prompt_version=result.prompt_version,
            usage=result.usage,
            attempts=result.attempts,
            error=None,
        )
    stored = Summary.objects.filter(
        pk=summary.pk, status=SummaryStatus.RUNNING, started_at=claimed_at
    ).update(finished_at=timezone.now(), **changes)
    if not stored:
        logger.warning("summary %s: claim lost while running; result dropped", summary.pk)
        return RunOutcome.LOST
    _record_metrics(
        provider=str(changes.get("provider") or provider_config().provider),
        status=str(changes["status"]),
        seconds=(timezone.now() - claimed_at).total_seconds(),
        usage=changes.get("usage"),
    )
    return RunOutcome.DONE


def _record_metrics(
    *, provider: str, status: str, seconds: float, usage: dict[str, Any] | None
) -> None:
    metrics.summaries_finished.labels(provider=provider, status=status).inc()
    metrics.summary_latency.labels(provider=provider).observe(seconds)
    for kind in ("prompt_tokens", "completion_tokens"):
        if usage and isinstance(usage.get(kind), int):
            metrics.summary_tokens.labels(provider=provider, kind=kind.split("_")[0]).inc(
                usage[kind]
            )


def summary_sweep_stuck(*, now: datetime | None = None) -> int:
    """Mark jobs with no result after ``SUMMARY_STALE_RUNNING_MINUTES`` as failed
    (``timed_out``): running ones whose worker was lost, and queued ones whose message was
    lost. They can then be retried. Returns how many were marked."""
    now = now or timezone.now()
    minutes = settings.SUMMARY_STALE_RUNNING_MINUTES
    cutoff = now - timedelta(minutes=minutes)

    def time_out(jobs: QuerySet[Summary], message: str) -> int:
        error = {"code": JobErrorCode.TIMED_OUT, "message": message}
        return jobs.update(status=SummaryStatus.FAILED, finished_at=now, error=error)

    running = time_out(
        Summary.objects.running_since_before(cutoff),
        f"Still running after {minutes} minutes; the worker was probably lost.",
    )
    queued = time_out(
        Summary.objects.queued_since_before(cutoff),
        f"Still queued after {minutes} minutes; no worker picked it up.",
    )
    if running or queued:
        logger.warning("summary sweep: %d running and %d queued jobs timed out", running, queued)
    return running + queued
