from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.hours import parse_opening_hours
from appointments.models import Appointment, AppointmentStatus
from appointments.tests.factories import AppointmentFactory
from appointments.tests.helpers import at, future_weekday

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("minutes", [14, 181])
def test_duration_check_constraint_holds_on_every_database(minutes):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory.create(start_time=at(future_weekday(), 9), duration_minutes=minutes)


def test_cancelled_rows_must_say_when():
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory.create(
            start_time=at(future_weekday(), 9), status=AppointmentStatus.CANCELLED
        )


def constraint_name(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


@pytest.mark.postgres
def test_exclusion_constraint_refuses_a_direct_double_booking():
    """PostgreSQL itself says no, even to a write that bypasses the service."""
    first = AppointmentFactory.create(start_time=at(future_weekday(), 9))
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        AppointmentFactory.create(doctor=first.doctor, start_time=at(future_weekday(), 9, 29))
    assert constraint_name(exc.value) == "appointments_no_doctor_overlap"
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        AppointmentFactory.create(patient=first.patient, start_time=at(future_weekday(), 9, 15))
    assert constraint_name(exc.value) == "appointments_no_patient_overlap"
    # Back to back, and overlapping a cancelled row, are both fine.
    AppointmentFactory.create(doctor=first.doctor, start_time=at(future_weekday(), 9, 30))
    Appointment.objects.filter(pk=first.pk).update(
        status=AppointmentStatus.CANCELLED, cancelled_at=timezone.now()
    )
    AppointmentFactory.create(
        doctor=first.doctor, start_time=at(future_weekday(), 9) - timedelta(minutes=5)
    )


def test_opening_hours_format():
    hours = parse_opening_hours(
        "mon-wed 08:00-12:00,13:00-17:00; fri,sat 9:30-13:00; mon 18:00-20:00"
    )
    assert sorted(hours) == [0, 1, 2, 4, 5]
    assert [(o.isoformat(), c.isoformat()) for o, c in hours[0]] == [
        ("08:00:00", "12:00:00"),
        ("13:00:00", "17:00:00"),
        ("18:00:00", "20:00:00"),
    ]
    assert parse_opening_hours("") == {}


@pytest.mark.parametrize(
    "spec",
    [
        "mon-fri",
        "mon-fri 18:00-08:00",
        "fri-mon 08:00-18:00",
        "xyz 08:00-09:00",
        "mon 8-9",
        "mon 25:00-26:00",
    ],
)
def test_malformed_opening_hours_are_a_configuration_error(spec):
    with pytest.raises(ImproperlyConfigured):
        parse_opening_hours(spec)
