"""Requests for summaries: queue one, read the current one, retry a failed one.

A request computes the patient's record and its hash, reuses a job for the same input if
one is queued, running or succeeded, and otherwise creates a ``queued`` row whose task is
published after the commit. Running a job (the worker's part) is ``summaries.runs``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.errors import Conflict, ServiceUnavailable
from patients.models import Patient
from summaries.engine import (
    PROMPT_VERSION,
    SummaryOptions,
    compute_input_hash,
)
from summaries.engine.local_provider import LOCAL_MODEL
from summaries.errors import SummaryErrorCode
from summaries.models import LOCAL_PROVIDER, Summary, SummaryStatus
from summaries.record import build_record
from summaries.runs import claim_lease
from summaries.tasks import generate_summary_task

logger = logging.getLogger("clinic.summaries")


@dataclass(frozen=True)
class CurrentSummary:
    summary: Summary
    stale: bool = False


# --------------------------------------------------------------------------- configuration


def summary_options(*, audience: str, length: str) -> SummaryOptions:
    return SummaryOptions.parse(
        audience=audience, length=length, deidentify=settings.SUMMARY_DEIDENTIFY
    )


def _configured_model() -> str:
    return LOCAL_MODEL if settings.SUMMARY_PROVIDER == LOCAL_PROVIDER else settings.SUMMARY_MODEL


# --------------------------------------------------------------------------- queueing


def _enqueue(summary_id: uuid.UUID, *, undo: Callable[[], None]) -> None:
    """Publish the task (an on_commit callback). If the broker cannot be reached the row
    is put back as it was and the request fails with 503 ``queue_unavailable``."""
    try:
        generate_summary_task.apply_async(args=(str(summary_id),), retry=False)
    except BrokerError as exc:
        logger.warning("summary %s not queued: broker unavailable (%s)", summary_id, exc)
        undo()
        raise ServiceUnavailable(
            "The job queue is unavailable, so the summary could not be queued. Try again later.",
            code=SummaryErrorCode.QUEUE_UNAVAILABLE,
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
    actor: User,
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
            requested_by=actor,
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
    actor: User,
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
        actor=actor,
    )


def summary_current(
    *,
    patient: Patient,
    audience: str,
    length: str,
    allow_stale: bool,
    actor: User,
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
                        actor=actor,
                    )
                except ServiceUnavailable:
                    logger.warning("stale summary %s served; refresh not queued", stale.pk)
            return CurrentSummary(stale, stale=True)
    if latest is not None and latest.status == SummaryStatus.FAILED:
        raise _failed(latest)
    summary, _ = _request(patient=patient, options=options, input_hash=input_hash, actor=actor)
    if summary.status == SummaryStatus.FAILED:  # it ran (and failed) within the request
        raise _failed(summary)
    return CurrentSummary(summary)


def _failed(summary: Summary) -> ServiceUnavailable:
    error = summary.error or {}
    return ServiceUnavailable(
        "The summary of the current record could not be generated "
        f"({error.get('code', 'unknown')}). A Provider can retry it.",
        code=SummaryErrorCode.SUMMARY_FAILED,
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
                code=SummaryErrorCode.SUMMARY_NOT_FAILED,
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
