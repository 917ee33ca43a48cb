"""A patient's structured data, gathered across their current notes.

Reads one query: every current note (not entered in error) whose extraction is done,
oldest first; the fold itself is the note engine's :func:`clinical_picture`, which the
offline summarizer uses too.
"""

from __future__ import annotations

from typing import Any

from notes.extraction import clinical_picture, condition_key
from notes.models import ExtractionStatus, Note
from patients.models import Patient


def patient_clinical_data(patient: Patient) -> dict[str, Any]:
    """Latest vitals, active (and held) medications, allergies and diagnoses with their sources.

    See :mod:`notes.extraction.picture` for the rules.
    """
    rows = (
        Note.objects.current()
        .for_patient(patient.pk)
        .filter(extraction_status=ExtractionStatus.DONE)
        .order_by("taken_at", "id")
        .values_list("id", "taken_at", "structured_data")
    )
    picture = clinical_picture(
        {"id": str(note_id), "at": taken_at, "structured_data": data}
        for note_id, taken_at, data in rows
    )
    picture["diagnoses"].sort(key=lambda d: condition_key(d["text"]))
    return {"patient_id": patient.pk, **picture}
