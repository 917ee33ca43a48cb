"""Twenty simultaneous bookings of overlapping slots for one doctor (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from appointments.models import Appointment
from appointments.services import appointment_book
from appointments.tests.factories import PatientFactory
from appointments.tests.helpers import at, future_weekday
from core.actors import system_actor
from core.errors import Conflict
from doctors.tests.factories import DoctorFactory

ATTEMPTS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_bookings_create_exactly_one():
    doctor = DoctorFactory.create()
    patients = [PatientFactory.create() for _ in range(ATTEMPTS)]
    day = future_weekday()
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            # Each start is a minute later; with 30 minutes every pair overlaps.
            appointment_book(
                actor=system_actor(),
                patient=patients[index],
                doctor=doctor,
                start_time=at(day, 9, index),
                duration_minutes=30,
            )
            outcome = "created"
        except Conflict as exc:
            outcome = exc.error_code
        except BaseException as exc:  # anything else is a failure of the test
            with lock:
                unexpected.append(exc)
            outcome = "error"
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    print(  # noqa: T201 -- the figures are reported with the milestone
        f"concurrency: attempts={ATTEMPTS} successes={outcomes['created']} "
        f"conflicts={outcomes['doctor_conflict']} other={dict(outcomes)}"
    )
    assert unexpected == []
    assert outcomes == {"created": 1, "doctor_conflict": ATTEMPTS - 1}
    assert Appointment.objects.count() == 1
