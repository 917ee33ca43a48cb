"""Celery tasks for notes: load by id, call the processing body, nothing more."""

from __future__ import annotations

from celery import shared_task

from notes.processing import note_process


@shared_task(acks_late=True, ignore_result=True)
def process_note(note_id: str) -> None:
    """Read and analyse a note. Safe to run twice: a settled note is left alone."""
    note_process(note_id=note_id)
