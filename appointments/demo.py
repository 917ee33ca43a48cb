"""A demo week of appointments from ``now`` on, for the demo patients and doctors.

Times are computed from the clinic's opening hours after ``now``, so the demo never
ages; ids are derived from the slot number, so running it again creates nothing new
(an existing id is skipped, and so is a slot that has become taken).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from appointments.hours import clinic_zone, grid_starts
from appointments.models import Appointment
from appointments.services import appointment_book, appointment_cancel
from core.actors import system_actor
from core.errors import Conflict
from doctors.demo import DEMO_DOCTORS
from doctors.models import Doctor
from patients.demo import demo_patient_ids
from patients.models import Patient

NAMESPACE = uuid.UUID("a9901000-0000-4000-8000-000000000000")
PER_DOCTOR_PER_DAY = 3
DAYS = 5
DURATIONS = (30, 45, 20)
REASONS = ("Routine check-up", "Follow-up visit", "New symptoms", "Test results", "")


def _clinic_days(now: datetime, count: int) -> list[tuple[datetime, ...]]:
    """The next ``count`` days (from tomorrow) on which the clinic opens."""
    day = now.astimezone(clinic_zone()).date()
    days: list[tuple[datetime, ...]] = []
    for _ in range(21):
        day += timedelta(days=1)
        starts = tuple(grid_starts(day, 30))
        if starts:
            days.append(starts)
            if len(days) == count:
                break
    return days


def seed(*, now: datetime) -> str:
    doctor_ids = [d["pk"] for d in DEMO_DOCTORS]
    doctors = list(Doctor.objects.filter(pk__in=doctor_ids, is_active=True).order_by("email"))
    patients = list(Patient.objects.filter(pk__in=demo_patient_ids()).order_by("mrn")[:20])
    if not doctors or not patients:
        return "skipped (no demo doctors or patients)"
    created = skipped = 0
    number = 0
    actor = system_actor()  # the demo clinic is made by the seeder, not by a person
    for day_index, starts in enumerate(_clinic_days(now, DAYS)):
        for doctor_index, doctor in enumerate(doctors):
            for slot in range(PER_DOCTOR_PER_DAY):
                number += 1
                pk = uuid.uuid5(NAMESPACE, f"demo-appointment-{number}")
                if Appointment.objects.filter(pk=pk).exists():
                    skipped += 1
                    continue
                # Spread the slots through the day: doctors start at different times and
                # patients rotate so nobody is double-booked.
                start = starts[(slot * 8 + doctor_index * 2) % len(starts)]
                patient = patients[(number + day_index) % len(patients)]
                try:
                    appointment = appointment_book(
                        patient=patient,
                        doctor=doctor,
                        start_time=start,
                        duration_minutes=DURATIONS[slot % len(DURATIONS)],
                        actor=actor,
                        reason=REASONS[number % len(REASONS)],
                        now=now,
                        pk=pk,
                    )
                except Conflict:
                    skipped += 1
                    continue
                if number % 11 == 0:
                    appointment_cancel(
                        appointment=appointment,
                        actor=actor,
                        reason="Patient asked to postpone",
                        now=now,
                    )
                created += 1
    return f"{created} demo appointments created, {skipped} skipped (already there or taken)"
