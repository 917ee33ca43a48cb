"""Notes on the patient timeline (see ``patients.timeline``)."""

from __future__ import annotations

from django.db.models import Q

from notes.models import Note
from patients.models import Patient
from patients.timeline import TimelineItem, TimelineQuery


def fetch_note_items(patient: Patient, query: TimelineQuery) -> list[TimelineItem]:
    """One page of the patient's notes, newest first by ``(taken_at, id)``, in one query.

    Notes entered in error stay on the timeline (their status says so): the record of
    what was once written is part of the chart.
    """
    notes = Note.objects.filter(patient=patient)
    if query.start is not None:
        notes = notes.filter(taken_at__gte=query.start)
    if query.end is not None:
        notes = notes.filter(taken_at__lt=query.end)
    if query.before is not None:
        at, last_id = query.before
        notes = notes.filter(Q(taken_at__lt=at) | Q(taken_at=at, id__lt=last_id))
    notes = notes.order_by("-taken_at", "-id").only(
        "id", "taken_at", "note_type", "status", "extraction_status", "parent_id"
    )[: max(query.limit, 0)]
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
