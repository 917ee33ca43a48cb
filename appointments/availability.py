"""Free start times: the availability endpoint and the suggestions in a 409."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.db.models import Q

from appointments.hours import clinic_zone, grid_starts
from appointments.models import Appointment
from doctors.models import Doctor
from patients.models import Patient

# How far ahead a conflict looks for alternatives.
SUGGESTION_HORIZON_DAYS = 28
SUGGESTION_COUNT = 3


def _busy(
    *,
    doctor: Doctor,
    patient: Patient | None,
    start: datetime,
    end: datetime,
    exclude_id: uuid.UUID | None,
) -> list[tuple[datetime, datetime]]:
    who = Q(doctor=doctor) | Q(patient=patient) if patient is not None else Q(doctor=doctor)
    qs = Appointment.objects.scheduled().overlapping(start, end).filter(who)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.values_list("start_time", "end_time"))


def _is_free(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return all(not (b_start < end and b_end > start) for b_start, b_end in busy)


def free_starts(
    *,
    doctor: Doctor,
    day: date,
    duration_minutes: int,
    now: datetime,
    patient: Patient | None = None,
    exclude_id: uuid.UUID | None = None,
) -> list[datetime]:
    """Start times on the clinic ``day`` (grid, opening hours) that are after ``now`` and
    where ``doctor`` (and ``patient``, if given) has no scheduled appointment. An inactive
    doctor has none."""
    if not doctor.is_active:
        return []
    candidates = [s for s in grid_starts(day, duration_minutes) if s > now]
    if not candidates:
        return []
    length = timedelta(minutes=duration_minutes)
    busy = _busy(
        doctor=doctor,
        patient=patient,
        start=candidates[0],
        end=candidates[-1] + length,
        exclude_id=exclude_id,
    )
    return [s for s in candidates if _is_free(s, s + length, busy)]


def next_free_starts(
    *,
    doctor: Doctor,
    after: datetime,
    duration_minutes: int,
    now: datetime,
    patient: Patient | None = None,
    exclude_id: uuid.UUID | None = None,
    limit: int = SUGGESTION_COUNT,
) -> list[datetime]:
    """Up to ``limit`` free start times from ``after`` on (never in the past), within
    clinic hours, looking ``SUGGESTION_HORIZON_DAYS`` ahead."""
    earliest = max(after, now)
    first_day = earliest.astimezone(clinic_zone()).date()
    found: list[datetime] = []
    for offset in range(SUGGESTION_HORIZON_DAYS):
        try:
            day = first_day + timedelta(days=offset)
        except OverflowError:
            break
        for start in free_starts(
            doctor=doctor,
            day=day,
            duration_minutes=duration_minutes,
            now=now,
            patient=patient,
            exclude_id=exclude_id,
        ):
            if start >= earliest:
                found.append(start)
                if len(found) == limit:
                    return found
    return found
