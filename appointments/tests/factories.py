from __future__ import annotations

from datetime import timedelta

import factory
from factory.django import DjangoModelFactory

from appointments.models import Appointment
from doctors.tests.factories import DoctorFactory
from patients.tests.factories import PatientFactory

__all__ = ["AppointmentFactory", "PatientFactory"]


class AppointmentFactory(DjangoModelFactory[Appointment]):
    """Rows for test set-up, written directly (e.g. in the past). Tests of the rules
    book through the services instead."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory)
    duration_minutes = 30
    end_time = factory.LazyAttribute(lambda a: a.start_time + timedelta(minutes=a.duration_minutes))
