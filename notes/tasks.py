"""Celery tasks for notes: load by id, call the service, nothing more."""

from __future__ import annotations

from celery import shared_task

from notes.services import note_process, notes_sweep_pending


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def process_note(note_id: str) -> None:
    """Read and analyse a note. Safe to run twice: a settled note is left alone, and a
    note left ``processing`` by a lost worker is taken up again by a redelivery."""
    note_process(note_id=note_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_notes() -> int:
    """Periodic (Celery beat): queue notes whose processing was never queued or was lost."""
    return notes_sweep_pending()
