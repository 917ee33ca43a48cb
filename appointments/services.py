"""Every write to an appointment goes through here (API, admin, demo data).

The scheduling rules, in the order they are checked:

1. ``start_time`` is timezone-aware, strictly in the future and at most
   ``SCHEDULING_MAX_DAYS_AHEAD`` days ahead;
2. ``duration_minutes`` is 15..180 (also a CHECK constraint);
3. the doctor is active (409 ``doctor_inactive``);
4. no scheduled appointment of the same doctor (409 ``doctor_conflict``) or the same
   patient (409 ``patient_conflict``) overlaps ``[start, end)``.

Rule 4 is enforced by the database on PostgreSQL: two exclusion constraints (migration
0002) make concurrent double bookings impossible, and the pre-check below only produces
the friendly error before the database has to say no. SQLite has no exclusion
constraints; there the pre-check *is* the rule. It holds because SQLite transactions
are opened with ``BEGIN IMMEDIATE`` (see the database settings): the booking
transaction takes the single database write lock before it reads, so no other writer
can insert between the check and the insert. That is weaker than PostgreSQL in two
ways: every write to the database is serialised (no concurrency at all), and the rule
lives in this code, so a write that bypasses the service (raw SQL, a shell) is not
checked.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from appointments.availability import next_free_starts
from appointments.errors import AppointmentErrorCode
from appointments.models import (
    DOCTOR_OVERLAP_CONSTRAINT,
    PATIENT_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentStatus,
)
from core import metrics
from core.actors import record_actor
from core.errors import Conflict, conflict_from_protected
from core.updates import UNSET, Unset, given, model_update, update_fields
from doctors.models import Doctor
from patients.models import Patient


def _conflict(
    appointment: Appointment, *, who: str, other: Appointment | None, now: datetime
) -> Conflict:
    """409 ``doctor_conflict``/``patient_conflict`` with the clashing appointment and up to
    three free start times for the same doctor and duration (free for the patient too)."""
    suggestions = next_free_starts(
        doctor=appointment.doctor,
        patient=appointment.patient,
        after=appointment.start_time,
        duration_minutes=appointment.duration_minutes,
        now=now,
        exclude_id=appointment.pk if not appointment._state.adding else None,
    )
    metrics.appointment_conflicts.labels(kind=who).inc()
    if who == "doctor":
        detail = "The doctor already has an appointment that overlaps this time."
    else:
        detail = "The patient already has an appointment that overlaps this time."
    return Conflict(
        detail,
        code=(
            AppointmentErrorCode.DOCTOR_CONFLICT
            if who == "doctor"
            else AppointmentErrorCode.PATIENT_CONFLICT
        ),
        conflicting_appointment_id=str(other.pk) if other is not None else None,
        next_available=[s.isoformat() for s in suggestions],
    )


def _first_overlap(appointment: Appointment, who: str) -> Appointment | None:
    qs = Appointment.objects.scheduled().overlapping(appointment.start_time, appointment.end_time)
    qs = (
        qs.filter(doctor=appointment.doctor)
        if who == "doctor"
        else qs.filter(patient=appointment.patient)
    )
    if not appointment._state.adding:
        qs = qs.exclude(pk=appointment.pk)
    return qs.order_by("start_time", "id").first()


def _validate(appointment: Appointment, *, now: datetime) -> None:
    """Rules 1-3 (400s and ``doctor_inactive``) and the friendly pre-check of rule 4."""
    appointment.full_clean(exclude=["end_time"], validate_constraints=False)
    start = appointment.start_time
    if timezone.is_naive(start):
        raise ValidationError(
            {"start_time": "Include a UTC offset; a time without one is ambiguous."}
        )
    if start <= now:
        raise ValidationError({"start_time": "The start time must be in the future."})
    if start > now + timedelta(days=settings.SCHEDULING_MAX_DAYS_AHEAD):
        raise ValidationError(
            {
                "start_time": ValidationError(
                    "Appointments can be booked at most "
                    f"{settings.SCHEDULING_MAX_DAYS_AHEAD} days ahead.",
                    code=AppointmentErrorCode.TOO_FAR_AHEAD,
                )
            }
        )
    try:
        appointment.end_time = start + timedelta(minutes=appointment.duration_minutes)
    except OverflowError:
        raise ValidationError({"start_time": "The start time is out of range."}) from None
    if not appointment.doctor.is_active:
        raise Conflict(
            "The doctor is inactive and cannot be booked.",
            code=AppointmentErrorCode.DOCTOR_INACTIVE,
            doctor_id=str(appointment.doctor_id),
        )
    for who in ("doctor", "patient"):
        other = _first_overlap(appointment, who)
        if other is not None:
            raise _conflict(appointment, who=who, other=other, now=now)


def ensure_bookable(*, appointment: Appointment, now: datetime | None = None) -> None:
    """Check rules 1-4 for ``appointment`` (new, or an existing one with its new values)
    without writing anything: raises exactly what :func:`appointment_book` and
    :func:`appointment_reschedule` would. Forms call it to show the error on the form; the
    write itself still goes through the service (and, on PostgreSQL, the constraint)."""
    _validate(appointment, now=now or timezone.now())


def _save_scheduled(appointment: Appointment, *, now: datetime) -> Appointment:
    """Check every rule and save. Call inside the booking transaction."""
    _validate(appointment, now=now)
    try:
        # A savepoint, so that after an exclusion violation the transaction can still
        # look up the appointment that won.
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        who = _overlap_constraint(exc)
        if who is None:
            raise
        raise _conflict(
            appointment, who=who, other=_first_overlap(appointment, who), now=now
        ) from exc
    return appointment


def _overlap_constraint(exc: IntegrityError) -> str | None:
    """``"doctor"``/``"patient"`` when ``exc`` is one of the PostgreSQL exclusion constraints."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return {DOCTOR_OVERLAP_CONSTRAINT: "doctor", PATIENT_OVERLAP_CONSTRAINT: "patient"}.get(
        name or ""
    )


def _ensure_status(appointment: Appointment, *, action: str) -> None:
    if not appointment.is_scheduled:
        code = (
            AppointmentErrorCode.ALREADY_CANCELLED
            if appointment.status == AppointmentStatus.CANCELLED
            else AppointmentErrorCode.NOT_SCHEDULED
        )
        raise Conflict(
            f"Only a scheduled appointment can be {action}; "
            f"this one is {appointment.get_status_display().lower()}.",
            code=code,
            status=appointment.status,
        )


def _locked(appointment: Appointment, actor: User) -> Appointment:
    """Re-read the row under a lock so concurrent status changes cannot interleave; its
    next save is ``actor``'s in the change history."""
    locked = (
        Appointment.objects.select_for_update()
        .select_related("doctor", "patient")
        .get(pk=appointment.pk)
    )
    record_actor(locked, actor)
    return locked


@transaction.atomic
def appointment_book(
    *,
    patient: Patient,
    doctor: Doctor,
    start_time: datetime,
    duration_minutes: int,
    actor: User,
    reason: str = "",
    now: datetime | None = None,
    pk: uuid.UUID | None = None,
) -> Appointment:
    """Book a slot for ``patient`` with ``doctor``, enforcing every scheduling rule.
    ``pk`` fixes the id (demo data); otherwise a random UUID."""
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        start_time=start_time,
        duration_minutes=duration_minutes,
        reason=reason,
        created_by=actor,
    )
    if pk is not None:
        appointment.pk = pk
    record_actor(appointment, actor)
    _save_scheduled(appointment, now=now or timezone.now())
    metrics.after_commit(metrics.appointments_booked.inc)
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    actor: User,
    patient: Patient | Unset = UNSET,
    doctor: Doctor | Unset = UNSET,
    start_time: datetime | Unset = UNSET,
    duration_minutes: int | Unset = UNSET,
    reason: str | Unset = UNSET,
    now: datetime | None = None,
) -> Appointment:
    """Change time, duration, doctor, patient or reason of a scheduled appointment.

    A change to any of the first four re-checks every rule; the appointment's own old
    slot never counts as a conflict.
    """
    appointment = _locked(appointment, actor)
    scheduling = {
        "patient": patient,
        "doctor": doctor,
        "start_time": start_time,
        "duration_minutes": duration_minutes,
    }
    moved = any(getattr(appointment, name) != value for name, value in given(scheduling).items())
    if moved:
        _ensure_status(appointment, action="rescheduled")
    model_update(instance=appointment, data={**scheduling, "reason": reason})
    if moved:
        return _save_scheduled(appointment, now=now or timezone.now())
    appointment.full_clean(exclude=["end_time"], validate_constraints=False)
    appointment.save()
    return appointment


RESCHEDULE_FIELDS = update_fields(appointment_reschedule)


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor: User, reason: str = "", now: datetime | None = None
) -> Appointment:
    """Cancel a scheduled appointment; its slot becomes bookable again."""
    appointment = _locked(appointment, actor)
    _ensure_status(appointment, action="cancelled")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancellation_reason = reason.strip()
    appointment.cancelled_at = now or timezone.now()
    appointment.full_clean(exclude=["end_time"], validate_constraints=False)
    appointment.save()
    return appointment


def _close(
    appointment: Appointment,
    *,
    actor: User,
    status: AppointmentStatus,
    action: str,
    now: datetime | None,
) -> Appointment:
    appointment = _locked(appointment, actor)
    _ensure_status(appointment, action=action)
    if not appointment.has_started(now or timezone.now()):
        raise Conflict(
            f"An appointment can be {action} only once it has started.",
            code=AppointmentErrorCode.NOT_STARTED,
            start_time=appointment.start_time.isoformat(),
        )
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    return appointment


@transaction.atomic
def appointment_complete(
    *, appointment: Appointment, actor: User, now: datetime | None = None
) -> Appointment:
    """Mark a started, scheduled appointment as completed."""
    return _close(
        appointment, actor=actor, status=AppointmentStatus.COMPLETED, action="completed", now=now
    )


@transaction.atomic
def appointment_mark_no_show(
    *, appointment: Appointment, actor: User, now: datetime | None = None
) -> Appointment:
    """Record that the patient did not come to a started, scheduled appointment."""
    return _close(
        appointment,
        actor=actor,
        status=AppointmentStatus.NO_SHOW,
        action="marked as a no-show",
        now=now,
    )


@transaction.atomic
def appointment_delete(*, appointment: Appointment, actor: User) -> None:
    """Delete an appointment that no clinical record refers to.

    Clinical records (interactions, notes) point at appointments with PROTECT foreign
    keys; Django refuses and this reports it as a 409 ``has_dependents``.
    """
    record_actor(appointment, actor)
    try:
        with transaction.atomic():
            appointment.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise conflict_from_protected(
            exc, what="The appointment", hint="Cancel it instead."
        ) from exc
