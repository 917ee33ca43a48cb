"""Celery tasks for notes: load by id, call the processing body, nothing more."""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import OperationalError as BrokerError

from notes.processing import note_process, notes_owed_processing

logger = logging.getLogger("clinic.notes")


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_note(note_id: str) -> None:
    """Read and analyse a note. Safe to run twice: a settled note is left alone, and a
    note left ``processing`` by a lost worker is taken up again by a redelivery."""
    note_process(note_id=note_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_notes() -> int:
    """Periodic (Celery beat): queue the notes whose processing is owed (saved while the
    broker was down, or left by a lost worker). Stops at the first broker failure; the
    next sweep tries again. Returns how many were queued."""
    queued = 0
    for note_id in notes_owed_processing():
        try:
            process_note.apply_async(args=(str(note_id),))
        except BrokerError:
            break
        queued += 1
    if queued:
        logger.warning("notes sweep: %d note(s) queued again for processing", queued)
    return queued
