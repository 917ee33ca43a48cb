"""Runs, claims, the sweep and the record, below the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from appointments.models import AppointmentStatus
from core.actors import system_actor
from patients.models import Patient
from summaries import runs
from summaries.engine import SummaryOptions, compute_input_hash
from summaries.models import Summary, SummaryStatus
from summaries.record import build_record
from summaries.runs import RunOutcome, claim_lease, summary_run, summary_sweep_stuck
from summaries.services import summary_request
from summaries.tasks import generate_summary_task, sweep_stuck_summaries
from summaries.tests.conftest import EMAIL, FIRST_NAME, PHONE, add_appointment
from summaries.tests.factories import SummaryFactory

pytestmark = pytest.mark.django_db


def test_record_has_demographics_and_only_upcoming_scheduled_appointments(
    patient: Patient,
) -> None:
    now = timezone.now()
    later = add_appointment(patient, days=2, reason="Check-up")
    past = add_appointment(patient, days=-2, reason="Old visit")
    cancelled = add_appointment(patient, days=4, reason="Cancelled one")
    cancelled.status = AppointmentStatus.CANCELLED
    cancelled.cancelled_at = now
    cancelled.save()

    record = build_record(patient, now=now)

    assert record["patient"] == {
        "id": str(patient.pk),
        "mrn": patient.mrn,
        "first_name": FIRST_NAME,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "gender": "female",
        "email": EMAIL,
        "phone": PHONE,
    }
    assert record["as_of"] == now.isoformat()
    assert [a["id"] for a in record["upcoming_appointments"]] == [str(later.pk)]
    assert record["upcoming_appointments"][0]["doctor"] == "Dr. Lindqvist"
    assert record["upcoming_appointments"][0]["specialty"] == "Cardiology"
    assert str(past.pk) not in str(record)
    # The notes and interactions apps are not installed on this branch yet.
    assert record["notes"] == []
    assert record["interactions"] == []


def test_input_hash_follows_the_record(patient: Patient) -> None:
    now = timezone.now()
    options = SummaryOptions()
    before = compute_input_hash(build_record(patient, now=now), options)
    assert compute_input_hash(build_record(patient, now=now), options) == before
    add_appointment(patient)
    assert compute_input_hash(build_record(patient, now=now), options) != before


def test_run_is_idempotent(patient: Patient) -> None:
    summary, created = summary_request(
        patient=patient, audience="patient", length="brief", actor=system_actor()
    )
    assert created  # not run: the on-commit publish never fires inside the test transaction
    assert summary.status == SummaryStatus.QUEUED

    assert summary_run(summary_id=summary.pk) == RunOutcome.DONE
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.SUCCEEDED
    finished_at = summary.finished_at

    # A second delivery of the same message leaves the finished job alone.
    assert generate_summary_task.apply(args=(str(summary.pk),)).get() == "finished"
    summary.refresh_from_db()
    assert summary.finished_at == finished_at
    assert summary_run(summary_id="5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11") == RunOutcome.MISSING


def test_a_running_job_is_left_to_its_worker_until_the_claim_lease_expires(
    patient: Patient,
) -> None:
    now = timezone.now()
    busy = SummaryFactory.create(patient=patient, status=SummaryStatus.RUNNING, started_at=now)
    assert summary_run(summary_id=busy.pk) == RunOutcome.BUSY
    busy.refresh_from_db()
    assert busy.status == SummaryStatus.RUNNING

    # The worker that claimed this one died (no run outlives the task time limit).
    abandoned = SummaryFactory.create(
        patient=patient,
        status=SummaryStatus.RUNNING,
        started_at=now - claim_lease() - dt.timedelta(seconds=1),
    )
    assert summary_run(summary_id=abandoned.pk) == RunOutcome.DONE
    abandoned.refresh_from_db()
    assert abandoned.status == SummaryStatus.SUCCEEDED
    assert abandoned.started_at is not None and abandoned.started_at > now - dt.timedelta(minutes=1)


def test_sweep_fails_jobs_stuck_running_or_queued(patient: Patient, settings) -> None:
    settings.SUMMARY_STALE_RUNNING_MINUTES = 15
    now = timezone.now()
    long_ago = now - dt.timedelta(minutes=16)
    stuck_running = SummaryFactory.create(
        patient=patient, status=SummaryStatus.RUNNING, started_at=long_ago
    )
    stuck_queued = SummaryFactory.create(
        patient=patient, status=SummaryStatus.QUEUED, queued_at=long_ago
    )
    recent = SummaryFactory.create(
        patient=patient, status=SummaryStatus.RUNNING, started_at=now - dt.timedelta(minutes=5)
    )
    fresh_queue = SummaryFactory.create(patient=patient, status=SummaryStatus.QUEUED)
    done = SummaryFactory.create(
        patient=patient,
        status=SummaryStatus.SUCCEEDED,
        started_at=long_ago,
        result={"narrative": "x"},
    )

    assert summary_sweep_stuck(now=now) == 2

    by_id = {s.pk: s for s in Summary.objects.all()}
    for swept in (stuck_running, stuck_queued):
        row = by_id[swept.pk]
        assert row.status == SummaryStatus.FAILED
        assert row.error is not None and row.error["code"] == "timed_out"
        assert row.finished_at == now
    assert "running after 15 minutes" in (by_id[stuck_running.pk].error or {})["message"]
    assert by_id[recent.pk].status == SummaryStatus.RUNNING
    assert by_id[fresh_queue.pk].status == SummaryStatus.QUEUED
    assert by_id[done.pk].status == SummaryStatus.SUCCEEDED

    # The periodic task is the same sweep; nothing is left to sweep now.
    assert sweep_stuck_summaries.apply().get() == 0


def test_a_swept_job_that_finishes_late_does_not_overwrite_the_failure(
    patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = SummaryFactory.create(patient=patient)
    real_engine = runs.generate_summary

    def sweep_meanwhile(*args: Any, **kwargs: Any) -> Any:
        # The sweep marks the job failed while the provider is still answering.
        Summary.objects.filter(pk=summary.pk).update(
            status=SummaryStatus.FAILED, error={"code": "timed_out", "message": "swept"}
        )
        return real_engine(*args, **kwargs)

    monkeypatch.setattr(runs, "generate_summary", sweep_meanwhile)

    assert summary_run(summary_id=summary.pk) == RunOutcome.LOST
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.FAILED
    assert summary.result is None


def test_beat_schedule_runs_the_sweep(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["summaries-sweep-stuck"]
    assert entry["task"] == sweep_stuck_summaries.name == "summaries.tasks.sweep_stuck_summaries"
    assert 0 < entry["schedule"] <= settings.SUMMARY_STALE_RUNNING_MINUTES * 60
