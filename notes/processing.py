"""The worker's part of a note: read the stored file, analyse the text, save the result.

Called by ``notes.tasks.process_note`` (and, eagerly, within the request when no broker
is configured). Imports run one way: services queue the task, the task calls this.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import metrics
from core.actors import record_actor, system_actor
from notes.extraction import analyze_note
from notes.files import kind_of
from notes.models import ContentSource, ExtractionStatus, Note
from notes.reading import ExtractionFailed, NeedsTranscription, read_file

logger = logging.getLogger("clinic.notes")


def note_process(*, note_id: uuid.UUID | str) -> Note | None:
    """The task body: read the file if needed, analyse the text, save the result.

    Idempotent: a note whose extraction is already settled (done, failed,
    needs_transcription) is left alone, and a run whose note changed meanwhile (edited,
    reprocessed) throws its result away. Never raises for a bad file: failures are
    recorded on the note.
    """
    with transaction.atomic():
        note = Note.objects.select_for_update().filter(pk=note_id).first()
        if note is None:
            return None
        if note.extraction_status not in (ExtractionStatus.PENDING, ExtractionStatus.PROCESSING):
            return note
        note.extraction_status = ExtractionStatus.PROCESSING
        # The worker's own writes: no person made them (core.actors).
        record_actor(note, system_actor())
        note.save(update_fields=["extraction_status", "updated_at"])
    revision = note.revision
    reads_file = note.reads_file() and not note.is_signed
    text, source, warning = note.content, ContentSource(note.content_source), ""
    result_status, error = ExtractionStatus.DONE, ""
    analysis = None
    try:
        if reads_file:
            with note.file.open("rb") as handle:
                data = handle.read()
            read = read_file(data, kind_of(note.file_content_type))
            text, source, warning = read.text, read.source, read.warning
        analysis = analyze_note(text, note_type=note.client_note_type or None)
    except NeedsTranscription as exc:
        result_status, error = ExtractionStatus.NEEDS_TRANSCRIPTION, str(exc)
    except ExtractionFailed as exc:
        result_status, error = ExtractionStatus.FAILED, str(exc)
    except Exception:
        logger.exception("Reading note %s failed", note_id)
        result_status = ExtractionStatus.FAILED
        error = "An unexpected error occurred while reading the note; try reprocessing it."
    with transaction.atomic():
        current = Note.objects.select_for_update().filter(pk=note_id).first()
        if (
            current is None
            or current.revision != revision
            or current.extraction_status != ExtractionStatus.PROCESSING
        ):
            return current
        if reads_file and result_status == ExtractionStatus.DONE:
            current.content, current.content_source = text, source
        if analysis is not None:
            current.sections = analysis.sections
            current.note_type = analysis.note_type
            current.note_type_source = analysis.note_type_source
            current.note_type_confidence = analysis.note_type_confidence
            current.structured_data = analysis.structured_data
        else:
            current.sections, current.structured_data = None, {}
        current.extraction_status = result_status
        current.extraction_error = error or warning
        record_actor(current, system_actor())
        current.save()
        status = str(result_status)
        metrics.after_commit(lambda: metrics.notes_processed.labels(status=status).inc())
    return current


def notes_owed_processing(*, now: datetime | None = None, limit: int = 500) -> list[uuid.UUID]:
    """The notes whose processing is owed, oldest first (the periodic sweep queues them).

    * ``pending`` for longer than ``NOTES_SWEEP_INTERVAL_SECONDS``: the broker was down
      when the note was saved or edited, or its message was lost;
    * ``processing`` for longer than ``CELERY_TASK_TIME_LIMIT``: the claim has expired, so
      the worker that took it was lost (no run outlives the hard time limit).

    Queuing a note twice is harmless: a run of a settled note does nothing.
    """
    now = now or timezone.now()
    pending_cutoff = now - timedelta(seconds=settings.NOTES_SWEEP_INTERVAL_SECONDS)
    claim_cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    owed = Note.objects.filter(
        Q(extraction_status=ExtractionStatus.PENDING, updated_at__lt=pending_cutoff)
        | Q(extraction_status=ExtractionStatus.PROCESSING, updated_at__lt=claim_cutoff)
    ).order_by("updated_at", "id")
    return list(owed.values_list("pk", flat=True)[:limit])
