"""Every write to a summary goes through here: requests, runs, retries and the sweep.

A request computes the patient's record and its hash, reuses a job for the same input if
one is queued, running or succeeded, and otherwise creates a ``queued`` row whose task is
published after the commit. A run (the Celery task) claims the row, rebuilds the record,
calls the engine outside any transaction and stores the outcome only if it still holds the
claim.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core import metrics
from core.errors import Conflict, ServiceUnavailable
from patients.models import Patient
from summaries.engine import (
    PROMPT_VERSION,
    ProviderConfig,
    SummaryError,
    SummaryOptions,
    compute_input_hash,
    generate_summary,
)
from summaries.engine.core import ProviderName
from summaries.engine.local_provider import LOCAL_MODEL
from summaries.models import Provider, Summary, SummaryStatus
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
TIMED_OUT = "timed_out"
INTERNAL_ERROR = "internal_error"


class RunOutcome(enum.StrEnum):
    DONE = "done"  # this run stored a result or an error
    FINISHED = "finished"  # already succeeded or failed: nothing to do (a duplicate delivery)
    BUSY = "busy"  # another run holds the claim and may still be working
    LOST = "lost"  # the claim was taken away meanwhile (swept or re-claimed): result dropped
    MISSING = "missing"  # no such summary (deleted with its patient)


@dataclass(frozen=True)
class CurrentSummary:
    summary: Summary
    stale: bool = False


# --------------------------------------------------------------------------- configuration


def summary_options(*, audience: str, length: str) -> SummaryOptions:
    return SummaryOptions(
        audience=audience,  # type: ignore[arg-type]
        length=length,  # type: ignore[arg-type]
        deidentify=settings.SUMMARY_DEIDENTIFY,
    )


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


def _configured_model() -> str:
    return LOCAL_MODEL if settings.SUMMARY_PROVIDER == Provider.LOCAL else settings.SUMMARY_MODEL


def claim_lease() -> timedelta:
    """How long a ``running`` row belongs to the run that claimed it.

    No task outlives Celery's hard time limit, so a row running for longer has lost its
    worker and a redelivered task may take it over.
    """
    seconds = settings.CELERY_TASK_TIME_LIMIT or settings.SUMMARY_STALE_RUNNING_MINUTES * 60
    return timedelta(seconds=seconds)


# --------------------------------------------------------------------------- queueing


def _enqueue(summary_id: uuid.UUID, *, undo: Callable[[], None]) -> None:
    """Publish the task (an on_commit callback). If the broker cannot be reached the row
    is put back as it was and the request fails with 503 ``queue_unavailable``."""
    from summaries.tasks import generate_summary_task

    try:
        generate_summary_task.apply_async(args=(str(summary_id),), retry=False)
    except BrokerError as exc:
        logger.warning("summary %s not queued: broker unavailable (%s)", summary_id, exc)
        undo()
        raise ServiceUnavailable(
            "The job queue is unavailable, so the summary could not be queued. Try again later.",
            code="queue_unavailable",
        ) from exc


def _forget(summary_id: uuid.UUID) -> None:
    Summary.objects.filter(pk=summary_id, status=SummaryStatus.QUEUED).delete()


def _restore(summary_id: uuid.UUID, previous: dict[str, Any]) -> None:
    Summary.objects.filter(pk=summary_id, status=SummaryStatus.QUEUED).update(**previous)


def _request(
    *,
    patient: Patient,
    options: SummaryOptions,
    input_hash: str,
    requested_by: User | AnonymousUser | None,
) -> tuple[Summary, bool]:
    with transaction.atomic():
        # Serialises concurrent requests for one patient, so that they share one job.
        Patient.objects.select_for_update().filter(pk=patient.pk).exists()
        existing = (
            Summary.objects.matching(
                patient_id=patient.pk, audience=options.audience, length=options.length
            )
            .filter(input_hash=input_hash)
            .reusable(claim_expired_before=timezone.now() - claim_lease())
            .newest_first()
            .first()
        )
        if existing is not None:
            return existing, False
        summary = Summary.objects.create(
            patient=patient,
            audience=options.audience,
            length=options.length,
            status=SummaryStatus.QUEUED,
            provider=settings.SUMMARY_PROVIDER,
            model=_configured_model(),
            prompt_version=PROMPT_VERSION,
            deidentified=options.deidentify,
            input_hash=input_hash,
            requested_by=requested_by if isinstance(requested_by, User) else None,
        )
        transaction.on_commit(partial(_enqueue, summary.pk, undo=partial(_forget, summary.pk)))
    # With eager Celery (the embedded default) the job has already run.
    summary.refresh_from_db()
    return summary, True


def summary_request(
    *,
    patient: Patient,
    audience: str,
    length: str,
    requested_by: User | AnonymousUser | None,
    now: datetime | None = None,
) -> tuple[Summary, bool]:
    """Queue a summary of the patient's current record, or return the job that already
    covers it (queued, running or succeeded, same options and input hash).

    Returns ``(summary, created)``. Raises 503 ``queue_unavailable`` when the broker is
    down; the row is then deleted again. Call outside ``transaction.atomic`` so that the
    task is published (and a broker failure reported) before this returns.
    """
    options = summary_options(audience=audience, length=length)
    record = build_record(patient, now=now or timezone.now())
    return _request(
        patient=patient,
        options=options,
        input_hash=compute_input_hash(record, options),
        requested_by=requested_by,
    )


def summary_current(
    *,
    patient: Patient,
    audience: str,
    length: str,
    allow_stale: bool,
    requested_by: User | AnonymousUser | None,
    now: datetime | None = None,
) -> CurrentSummary:
    """The newest succeeded summary of the current record, else the job that will make it.

    * a succeeded summary whose input hash matches the record as it is now: returned;
    * ``allow_stale``: otherwise the newest succeeded one for these options, marked stale,
      and a fresh one is queued in the background if nothing covers the record yet (a
      broker failure is logged, not raised: the caller asked for something to read);
    * if the newest job for the current record failed, 503 ``summary_failed``: reading
      never re-queues a failed job (a polling client would queue one per poll); a Provider
      retries it or requests a new one;
    * otherwise a job is queued (or the one under way returned).
    """
    options = summary_options(audience=audience, length=length)
    record = build_record(patient, now=now or timezone.now())
    input_hash = compute_input_hash(record, options)
    same_options = Summary.objects.matching(patient_id=patient.pk, audience=audience, length=length)
    fresh = same_options.succeeded().filter(input_hash=input_hash).newest_first().first()
    if fresh is not None:
        return CurrentSummary(fresh)
    latest = same_options.filter(input_hash=input_hash).newest_first().first()
    if allow_stale:
        stale = same_options.succeeded().newest_first().first()
        if stale is not None:
            if latest is None:
                try:
                    _request(
                        patient=patient,
                        options=options,
                        input_hash=input_hash,
                        requested_by=requested_by,
                    )
                except ServiceUnavailable:
                    logger.warning("stale summary %s served; refresh not queued", stale.pk)
            return CurrentSummary(stale, stale=True)
    if latest is not None and latest.status == SummaryStatus.FAILED:
        raise _failed(latest)
    summary, _ = _request(
        patient=patient, options=options, input_hash=input_hash, requested_by=requested_by
    )
    if summary.status == SummaryStatus.FAILED:  # it ran (and failed) within the request
        raise _failed(summary)
    return CurrentSummary(summary)


def _failed(summary: Summary) -> ServiceUnavailable:
    error = summary.error or {}
    return ServiceUnavailable(
        "The summary of the current record could not be generated "
        f"({error.get('code', 'unknown')}). A Provider can retry it.",
        code="summary_failed",
        summary_id=str(summary.pk),
        error=error,
    )


def summary_retry(*, summary: Summary) -> Summary:
    """Queue a failed summary again (409 ``summary_not_failed`` otherwise). A job still
    ``running`` after its claim lease (:func:`claim_lease`) lost its worker and counts as
    failed: it can be retried too.

    The run rebuilds the record, so the retried summary describes the record as it is then.
    If the broker is down the row goes back to its failed state and the call fails with 503.
    """
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if not locked.can_retry(claim_expired_before=timezone.now() - claim_lease()):
            raise Conflict(
                f"Only a failed summary can be retried; this one is {locked.status}.",
                code="summary_not_failed",
            )
        previous = {
            name: getattr(locked, name)
            for name in (
                "status",
                "error",
                "attempts",
                "usage",
                "started_at",
                "finished_at",
                "provider",
                "model",
                "queued_at",
            )
        }
        locked.status = SummaryStatus.QUEUED
        locked.queued_at = timezone.now()
        locked.error = None
        locked.attempts = 0
        locked.usage = None
        locked.started_at = None
        locked.finished_at = None
        locked.provider = settings.SUMMARY_PROVIDER
        locked.model = _configured_model()
        locked.save(update_fields=[*previous])
        transaction.on_commit(
            partial(_enqueue, locked.pk, undo=partial(_restore, locked.pk, previous))
        )
    locked.refresh_from_db()
    return locked


# --------------------------------------------------------------------------- running


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
    options = SummaryOptions(
        audience=summary.audience,  # type: ignore[arg-type]
        length=summary.length,  # type: ignore[arg-type]
        deidentify=summary.deidentified,
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
                "code": INTERNAL_ERROR,
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
    running = Summary.objects.running_since_before(cutoff).update(
        status=SummaryStatus.FAILED,
        finished_at=now,
        error={
            "code": TIMED_OUT,
            "message": f"Still running after {minutes} minutes; the worker was probably lost.",
        },
    )
    queued = Summary.objects.queued_since_before(cutoff).update(
        status=SummaryStatus.FAILED,
        finished_at=now,
        error={
            "code": TIMED_OUT,
            "message": f"Still queued after {minutes} minutes; no worker picked it up.",
        },
    )
    if running or queued:
        logger.warning("summary sweep: %d running and %d queued jobs timed out", running, queued)
    return running + queued
