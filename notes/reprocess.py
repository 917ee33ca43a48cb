"""Re-reading notes with a newer engine (``manage.py reprocess_notes --since VERSION``).

A note's text never changes here - a signed note's text is what was signed - only what the
engine derived from it: sections, the inferred note type and ``structured_data``. Each
re-read note records it in ``structured_data["reprocessed"]``: when, and which engine version
had produced the data it replaces. Notes whose extraction is not done (pending, failed,
waiting for a transcription) are left to the normal processing path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.actors import record_actor
from notes.extraction import ENGINE_VERSION, analyze_note
from notes.models import ExtractionStatus, Note

logger = logging.getLogger("clinic.notes")

#: What notes read before versions were recorded count as.
UNVERSIONED = "1.0"


def version_key(version: str) -> tuple[int, ...]:
    """ "2.10" sorts after "2.9"; raises ``ValueError`` for anything but dotted numbers."""
    return tuple(int(part) for part in version.split("."))


def note_engine_version(note: Note) -> str:
    data = note.structured_data or {}
    version = data.get("engine_version") if isinstance(data, dict) else None
    return version if isinstance(version, str) and version else UNVERSIONED


@dataclass(frozen=True)
class Reprocessed:
    note_id: str
    from_version: str
    signed: bool


def notes_older_than(since: str) -> Iterator[Note]:
    """Notes with done extraction whose data came from an engine older than ``since``."""
    limit = version_key(since)
    rows = Note.objects.filter(extraction_status=ExtractionStatus.DONE).order_by("taken_at", "id")
    for note in rows.iterator(chunk_size=200):
        if version_key(note_engine_version(note)) < limit:
            yield note


@transaction.atomic
def note_reprocess(*, note: Note, actor: User) -> Reprocessed:
    """Re-read one note's text with the current engine and record that it was re-read."""
    locked = Note.objects.select_for_update().get(pk=note.pk)
    record_actor(locked, actor)
    previous = note_engine_version(locked)
    analysis = analyze_note(locked.content, note_type=locked.client_note_type or None)
    locked.sections = analysis.sections
    locked.note_type = analysis.note_type
    locked.note_type_source = analysis.note_type_source
    locked.note_type_confidence = analysis.note_type_confidence
    locked.structured_data = {
        **analysis.structured_data,
        "reprocessed": {"at": timezone.now().isoformat(), "from_engine_version": previous},
    }
    locked.save(
        update_fields=[
            "sections",
            "note_type",
            "note_type_source",
            "note_type_confidence",
            "structured_data",
            "updated_at",
        ]
    )
    logger.info(
        "note re-read",
        extra={"note_id": str(locked.pk), "from": previous, "to": ENGINE_VERSION},
    )
    return Reprocessed(str(locked.pk), previous, locked.is_signed)
