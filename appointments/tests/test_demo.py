from __future__ import annotations

import pytest
from django.utils import timezone

from appointments import demo as appointments_demo
from appointments.hours import clinic_zone, grid_starts
from appointments.models import Appointment
from appointments.tests.factories import PatientFactory
from doctors import demo as doctors_demo
from doctors.models import Doctor
from patients import demo as patients_demo

pytestmark = pytest.mark.django_db


def test_demo_week_is_valid_and_idempotent():
    now = timezone.now()
    patients_demo.seed(now=now)
    # Demo appointments are for demo patients only, never a clinic's own.
    real = PatientFactory.create()
    doctors_demo.seed(now=now)
    appointments_demo.seed(now=now)
    doctors = Doctor.objects.count()
    rows = list(Appointment.objects.values_list("pk", "start_time", "status"))
    assert doctors == 5
    assert Doctor.objects.filter(is_active=False).count() == 1
    assert len({d.specialty for d in Doctor.objects.all()}) == 5
    assert rows
    assert not Appointment.objects.filter(patient=real).exists()
    assert all(start > now for _, start, _ in rows)
    for appointment in Appointment.objects.all():
        local = appointment.start_time.astimezone(clinic_zone())
        assert appointment.start_time in grid_starts(local.date(), appointment.duration_minutes)
    assert {status for _, _, status in rows} == {"scheduled", "cancelled"}
    assert "0 demo doctors created" in doctors_demo.seed(now=now)
    assert appointments_demo.seed(now=timezone.now()).startswith("0 demo appointments created")
    assert Doctor.objects.count() == doctors
    assert sorted(Appointment.objects.values_list("pk", "start_time", "status")) == sorted(rows)


def test_demo_without_patients_creates_nothing():
    doctors_demo.seed(now=timezone.now())
    assert appointments_demo.seed(now=timezone.now()).startswith("skipped")
    assert not Appointment.objects.exists()
