"""Demo patients from ``fixtures/demo_patients.json`` (synthetic people)."""

from __future__ import annotations

from datetime import datetime

from django.core.management import call_command

from patients.models import Patient
from patients.services import mrn_sequence_sync

FIXTURE = "demo_patients"


def seed(*, now: datetime) -> str:
    # loaddata with fixed primary keys is an upsert, so a second run changes nothing.
    call_command("loaddata", FIXTURE, verbosity=0)
    last = mrn_sequence_sync()
    return f"{Patient.objects.count()} patients (MRN counter at {last})"
