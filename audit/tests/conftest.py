"""A small clinic whose every record belongs to one patient, for the audit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from appointments.tests.factories import AppointmentFactory
from audit.models import AuditEvent
from doctors.tests.factories import DoctorFactory
from interactions.tests.factories import InteractionFactory
from notes.tests.factories import NoteFactory
from outcomes.models import Outcome
from patients.models import Patient
from patients.tests.factories import PatientFactory
from summaries.tests.factories import SummaryFactory
from transfers.models import ImportJob


@dataclass
class Clinic:
    patient: Patient
    objects: dict[str, Any]


@pytest.fixture
def clinic(db: None) -> Clinic:
    patient = PatientFactory.create()
    doctor = DoctorFactory.create()
    start = timezone.now() - timedelta(hours=2)
    appointment = AppointmentFactory.create(patient=patient, doctor=doctor, start_time=start)
    return Clinic(
        patient=patient,
        objects={
            "patient": patient,
            "doctor": doctor,
            "appointment": appointment,
            "outcome": Outcome.objects.get(pk="healthy"),
            "interaction": InteractionFactory.create(patient=patient),
            "note": NoteFactory.create(patient=patient),
            "summary": SummaryFactory.create(patient=patient),
            "import_job": ImportJob.objects.create(kind="patients", file="imports/x.csv"),
        },
    )


def events_after(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0
