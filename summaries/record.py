"""The patient's record as the summary engine reads it (``summaries.engine.record``).

Everything a summary is built from is gathered here, and only here, so that the input
hash (``summaries.engine.compute_input_hash``) covers exactly what the summary says: a new
note, interaction or appointment changes the record, hence the hash, hence makes the
stored summary stale.

Notes come from ``Note.objects.current()`` (retracted notes and their addenda never reach
a summary); interactions only when ``current`` (amended and retracted entries are history).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings

from appointments.models import Appointment
from interactions.models import Interaction, InteractionStatus
from notes.models import Note
from patients.models import Patient
from summaries.engine.record import Appointment as AppointmentRecord
from summaries.engine.record import Interaction as InteractionRecord
from summaries.engine.record import Note as NoteRecord
from summaries.engine.record import PatientRecord, StructuredData

# Bounds on what one summary reads: the newest rows win.
MAX_NOTES = 50
MAX_INTERACTIONS = 100
MAX_APPOINTMENTS = 20


def _iso(value: datetime | None) -> str:
    """ISO 8601 in the clinic's time zone (``CLINIC_TIME_ZONE``), so every date and time a
    summary shows is the clinic's local one."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(settings.CLINIC_TIME_ZONE)).isoformat()


def build_record(patient: Patient, *, now: datetime) -> PatientRecord:
    """The record of ``patient`` as of ``now`` (an aware datetime)."""
    return {
        "patient": {
            "id": str(patient.pk),
            "mrn": patient.mrn,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "gender": patient.gender,  # type: ignore[typeddict-item]
            "email": patient.email,
            "phone": patient.phone,
        },
        "as_of": now.isoformat(),
        "notes": _notes_for(patient),
        "interactions": _interactions_for(patient),
        "upcoming_appointments": _appointments_for(patient, now=now),
    }


def _appointments_for(patient: Patient, *, now: datetime) -> list[AppointmentRecord]:
    rows = (
        Appointment.objects.upcoming(now)
        .filter(patient=patient)
        .select_related("doctor")
        .order_by("start_time", "id")[:MAX_APPOINTMENTS]
    )
    return [
        {
            "id": str(a.pk),
            "start_time": a.start_time.isoformat(),
            "duration_minutes": a.duration_minutes,
            "doctor": a.doctor.full_name,
            "specialty": a.doctor.specialty,
            "reason": a.reason or None,
        }
        for a in rows
    ]


def _notes_for(patient: Patient) -> list[NoteRecord]:
    """Current notes, newest first: not entered in error, nor addenda of such notes
    (``Note.objects.current()``); drafts count, since they are the care team's notes."""
    rows = list(
        Note.objects.current()
        .filter(patient=patient)
        .order_by("-taken_at", "-pk")
        .values("pk", "taken_at", "note_type", "content", "sections", "structured_data")[:MAX_NOTES]
    )
    return [
        {
            "id": str(row["pk"]),
            "taken_at": _iso(row["taken_at"]),
            "note_type": row["note_type"] or "note",
            "content": row["content"] or "",
            "sections": row["sections"] or None,
            "structured_data": cast(StructuredData, row["structured_data"] or {}),
        }
        for row in rows
    ]


def _interactions_for(patient: Patient) -> list[InteractionRecord]:
    """Current interactions (not amended or entered in error), newest first."""
    rows = list(
        Interaction.objects.filter(patient=patient, status=InteractionStatus.CURRENT)
        .order_by("-occurred_at", "-pk")
        .values(
            "pk",
            "occurred_at",
            "notes",
            "outcome__code",
            "outcome__label",
            "outcome__severity",
            "doctor__full_name",
        )[:MAX_INTERACTIONS]
    )
    return [
        {
            "id": str(row["pk"]),
            "occurred_at": _iso(row["occurred_at"]),
            "outcome": {
                "code": row["outcome__code"],
                "label": row["outcome__label"],
                "severity": row["outcome__severity"],
            },
            "notes": row["notes"] or "",
            "doctor": row["doctor__full_name"],
        }
        for row in rows
    ]
