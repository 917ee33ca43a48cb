"""Notes on the patient timeline (see ``patients.timeline``)."""

from __future__ import annotations

from notes.models import Note
from patients.models import Patient
from patients.timeline import TimelineItem, TimelineQuery, window


def fetch_note_items(patient: Patient, query: TimelineQuery) -> list[TimelineItem]:
    """One page of the patient's notes, newest first by ``(taken_at, id)``, in one query.

    Notes entered in error stay on the timeline (their status says so): the record of
    what was once written is part of the chart.
    """
    notes = (
        Note.objects.filter(window(query, "taken_at"), patient=patient)
        .order_by("-taken_at", "-id")
        .only("id", "taken_at", "note_type", "status", "extraction_status", "parent_id")[
            : max(query.limit, 0)
        ]
    )
    return [
        TimelineItem(
            type="note",
            id=note.id,
            at=note.taken_at,
            title=note.title,
            data={
                "note_type": note.note_type,
                "status": note.status,
                "extraction_status": note.extraction_status,
                "parent_id": str(note.parent_id) if note.parent_id else None,
            },
        )
        for note in notes
    ]
