"""Demo patients from ``fixtures/demo_patients.json`` (synthetic people).

Fixed primary keys make a second run a no-op. On a database that already holds other
patients, a demo patient whose MRN or email is taken is skipped rather than loaded over
a real record (and the demo appointments only ever use demo patients).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db.models import Q

from patients.models import Patient
from patients.services import mrn_sequence_sync

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo_patients.json"


@cache
def demo_patient_ids() -> tuple[uuid.UUID, ...]:
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return tuple(uuid.UUID(row["pk"]) for row in rows if row["model"] == "patients.patient")


def seed(*, now: datetime) -> str:
    existing = set(Patient.objects.filter(pk__in=demo_patient_ids()).values_list("pk", flat=True))
    loaded = clashing = 0
    for deserialized in serializers.deserialize("json", FIXTURE.read_text(encoding="utf-8")):
        patient = deserialized.object
        if not isinstance(patient, Patient) or patient.pk in existing:
            continue
        taken = Q(mrn=patient.mrn) | (Q(email__iexact=patient.email) if patient.email else Q())
        if Patient.objects.filter(taken).exists():
            clashing += 1
            continue
        deserialized.save()
        loaded += 1
    last = mrn_sequence_sync()
    note = f", {clashing} skipped (MRN or email already in use)" if clashing else ""
    return (
        f"{loaded} demo patients loaded{note}; {Patient.objects.count()} patients "
        f"(MRN counter at {last})"
    )
