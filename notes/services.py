"""Every write to a note goes through here (API, demo seed, tasks)."""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import status

from core import metrics
from core.errors import ApiError, Conflict, ServiceUnavailable
from core.permissions import Role, role_of
from notes.extraction import analyze_note
from notes.files import FileKind, kind_of, sniff
from notes.models import (
    ContentSource,
    ExtractionStatus,
    Note,
    NoteStatus,
    NoteTypeSource,
    Signature,
    SignatureMeaning,
)
from notes.reading import ExtractionFailed, NeedsTranscription, check_image, check_pdf, read_file
from patients.models import Patient

logger = logging.getLogger("clinic.notes")

UPDATABLE_FIELDS = ("content", "taken_at", "note_type")


class InvalidPassword(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "invalid_password"
    default_detail = "The password is not correct; the note was not signed."


class NotAuthor(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_author"
    default_detail = "Only the note's author or an Admin may do this."


def _note_signed() -> Conflict:
    return Conflict(
        "The note is signed and can no longer change; add an addendum or retract it.",
        code="note_signed",
    )


def _note_retracted() -> Conflict:
    return Conflict("The note was entered in error and is closed.", code="note_retracted")


def _ensure_author_or_admin(note: Note, user: User) -> None:
    if note.author_id != user.pk and role_of(user) < Role.ADMIN:
        raise NotAuthor()


def _ensure_open(note: Note) -> None:
    if note.is_retracted:
        raise _note_retracted()
    if note.is_signed:
        raise _note_signed()


def _check_content(content: str) -> None:
    if not content.strip():
        raise ValidationError({"content": ValidationError("The note is blank.", code="blank")})
    if len(content) > settings.NOTES_MAX_CONTENT_CHARS:
        raise ValidationError(
            {
                "content": ValidationError(
                    f"Notes are limited to {settings.NOTES_MAX_CONTENT_CHARS} characters.",
                    code="too_long",
                )
            }
        )
    if "\x00" in content:
        raise ValidationError(
            {"content": ValidationError("NUL characters are not allowed.", code="invalid")}
        )


def _publish_processing(note_id: str) -> bool:
    """Publish the processing task now; False (logged) when the broker is unreachable.

    A note that could not be queued stays ``pending`` and is queued again by the
    pending-notes sweep (:func:`notes_sweep_pending`) once the broker is back.
    """
    from notes.tasks import process_note

    try:
        process_note.apply_async(args=(note_id,))
    except BrokerError as exc:
        logger.warning(
            "note %s not queued: broker unavailable (%s); the pending-notes sweep will queue it",
            note_id,
            type(exc).__name__,
        )
        return False
    return True


def _enqueue_processing(note: Note) -> None:
    """Queue text extraction and analysis once the current transaction commits.

    The note is saved either way: if the broker is down the request still succeeds, the
    note stays ``pending``, and the sweep queues it when the broker returns.
    """
    note_id = str(note.pk)
    transaction.on_commit(lambda: _publish_processing(note_id))


def _apply_type(note: Note, note_type: str | None) -> None:
    note.client_note_type = note_type or ""
    if note_type:
        note.note_type = note_type
        note.note_type_source = NoteTypeSource.CLIENT
        note.note_type_confidence = None
    else:
        note.note_type_source = NoteTypeSource.AUTO


def clean_file_name(name: str) -> str:
    """The uploaded name, reduced to a safe display name (never used as a path)."""
    base = os.path.basename(name.replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[-255:] or "note"


@transaction.atomic
def note_create_from_text(
    *,
    patient: Patient,
    author: User,
    taken_at: datetime,
    content: str,
    note_type: str | None = None,
    parent: Note | None = None,
    note_id: uuid.UUID | None = None,
) -> Note:
    """Store a typed note; extraction and analysis are queued."""
    _check_content(content)
    note = Note(
        id=note_id or uuid.uuid4(),
        patient=patient,
        parent=parent,
        author=author,
        taken_at=taken_at,
        content=content,
        content_source=ContentSource.TYPED,
    )
    _apply_type(note, note_type)
    note.full_clean(validate_constraints=False)
    note.save(force_insert=True)
    _enqueue_processing(note)
    return note


@transaction.atomic
def note_create_from_upload(
    *,
    patient: Patient,
    author: User,
    taken_at: datetime,
    data: bytes,
    file_name: str,
    declared_type: str | None,
    note_type: str | None = None,
    note_id: uuid.UUID | None = None,
) -> Note:
    """Store an uploaded note file and queue its reading.

    The bytes decide what the file is (see ``notes.files``). PDFs and images are opened
    here, so a file no reader can open is refused with nothing stored; the slow part
    (text layer, OCR, analysis) runs in the task.
    """
    name = clean_file_name(file_name)
    sniffed = sniff(data, declared_type=declared_type, name=name)
    if sniffed.kind is FileKind.PDF:
        check_pdf(data)
    elif sniffed.kind.is_image:
        check_image(data)
    content, source = "", ContentSource.NONE
    if sniffed.text is not None:
        if not sniffed.text.strip():
            raise ApiError(
                "The file contains no text.",
                code="empty_file",
                errors=[{"field": "file", "code": "empty_file", "detail": "No text."}],
            )
        content, source = sniffed.text, ContentSource.TEXT_FILE
        _check_content(content)
    note = Note(
        id=note_id or uuid.uuid4(),
        patient=patient,
        author=author,
        taken_at=taken_at,
        content=content,
        content_source=source,
        file_name=name,
        file_content_type=sniffed.content_type,
        file_size=len(data),
        file_sha256=hashlib.sha256(data).hexdigest(),
    )
    _apply_type(note, note_type)
    note.full_clean(exclude=["file"], validate_constraints=False)
    # The stored name is random: nothing about the patient or the upload shows in it.
    note.file.save(uuid.uuid4().hex, ContentFile(data), save=False)
    stored = note.file.name or ""
    try:
        note.save(force_insert=True)
    except Exception:
        note.file.storage.delete(stored)
        raise
    _enqueue_processing(note)
    return note


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
        current.save()
        status = str(result_status)
        metrics.after_commit(lambda: metrics.notes_processed.labels(status=status).inc())
    return current


@transaction.atomic
def note_reprocess(*, note: Note) -> Note:
    """Read and analyse the note again (after a failure, or with a newer engine).

    Unlike saving a note, reprocessing needs the broker: if the task cannot be published
    after the commit, the note is put back exactly as it was (a ``done`` note stays
    ``done`` and signable) and the call fails with 503 ``service_unavailable``.
    """
    note = Note.objects.select_for_update().get(pk=note.pk)
    if note.is_retracted:
        raise _note_retracted()
    previous = {
        "revision": note.revision,
        "extraction_status": note.extraction_status,
        "extraction_error": note.extraction_error,
        "updated_at": note.updated_at,
    }
    note.revision += 1
    note.extraction_status = ExtractionStatus.PENDING
    note.extraction_error = ""
    note.save(update_fields=["revision", "extraction_status", "extraction_error", "updated_at"])
    transaction.on_commit(partial(_queue_reprocessing, str(note.pk), note.revision, previous))
    return note


def _queue_reprocessing(note_id: str, revision: int, previous: dict[str, Any]) -> None:
    """Publish a reprocessing (an on_commit callback), or undo it and answer 503."""
    if _publish_processing(note_id):
        return
    # Put the note back only if nothing touched it since (an edit, a task run).
    Note.objects.filter(
        pk=note_id, revision=revision, extraction_status=ExtractionStatus.PENDING
    ).update(**previous)
    raise ServiceUnavailable(
        "The job queue is unavailable, so the note was not reprocessed (it is unchanged). "
        "Try again later."
    )


@transaction.atomic
def note_update(*, note: Note, by: User, **changes: Any) -> Note:
    """Edit a draft: its text (for a scanned note, the transcription), time or type."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, by)
    _ensure_open(note)
    reanalyse = False
    if "content" in changes and changes["content"] != note.content:
        _check_content(changes["content"])
        note.content = changes["content"]
        note.content_source = ContentSource.TRANSCRIBED if note.file else ContentSource.TYPED
        reanalyse = True
    if "note_type" in changes and (changes["note_type"] or "") != note.client_note_type:
        _apply_type(note, changes["note_type"])
        reanalyse = True
    if "taken_at" in changes:
        note.taken_at = changes["taken_at"]
    note.full_clean(exclude=["file"], validate_constraints=False)
    if reanalyse:
        note.revision += 1
        note.extraction_status = ExtractionStatus.PENDING
        note.extraction_error = ""
        _enqueue_processing(note)
    note.save()
    return note


def note_sign(
    *,
    note: Note,
    signer: User,
    password: str,
    meaning: str,
    request: HttpRequest | None = None,
) -> Signature:
    """Sign ``note`` after re-checking the signer's password (21 CFR 11.200: each
    signing re-authenticates). The signature keeps the SHA-256 of the signed text."""
    authenticated = authenticate(request, username=signer.get_username(), password=password)
    if authenticated is None or authenticated.pk != signer.pk:
        raise InvalidPassword()
    return _record_signature(note=note, signer=signer, meaning=SignatureMeaning(meaning))


@transaction.atomic
def _record_signature(*, note: Note, signer: User, meaning: str) -> Signature:
    note = Note.objects.select_for_update().get(pk=note.pk)
    if note.is_retracted:
        raise _note_retracted()
    if note.extraction_status in (ExtractionStatus.PENDING, ExtractionStatus.PROCESSING):
        raise Conflict(
            "The note is still being read; sign it once extraction has finished.",
            code="extraction_pending",
        )
    if not note.content.strip():
        raise Conflict(
            "The note has no text to sign; transcribe it first.", code="note_not_transcribed"
        )
    if Signature.objects.filter(note=note, signer=signer, meaning=meaning).exists():
        raise Conflict(
            "You have already signed this note with this meaning.", code="already_signed"
        )
    full_name = signer.get_full_name()
    signature = Signature(
        note=note,
        signer=signer,
        signer_name=full_name or signer.get_username(),
        meaning=meaning,
        signed_at=timezone.now(),
        content_sha256=note.content_sha256,
    )
    try:
        with transaction.atomic():
            signature.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(
            "You have already signed this note with this meaning.", code="already_signed"
        ) from exc
    if note.status != NoteStatus.SIGNED:
        note.status = NoteStatus.SIGNED
        note.save(update_fields=["status", "updated_at"])
    return signature


@transaction.atomic
def note_add_addendum(
    *,
    parent: Note,
    author: User,
    taken_at: datetime,
    content: str,
    note_type: str | None = None,
) -> Note:
    """Add a dated addendum to a signed note; the addendum is a draft note of its own."""
    parent = Note.objects.select_for_update().select_related("patient").get(pk=parent.pk)
    if parent.is_retracted:
        raise _note_retracted()
    if parent.parent_id:
        raise Conflict(
            "Add the addendum to the original note, not to another addendum.",
            code="note_is_addendum",
        )
    if not parent.is_signed:
        raise Conflict(
            "Only signed notes take addenda; edit the draft instead.", code="note_not_signed"
        )
    if taken_at < parent.taken_at:
        raise ValidationError(
            {
                "taken_at": ValidationError(
                    "An addendum cannot be dated before the note it adds to.", code="before_parent"
                )
            }
        )
    return note_create_from_text(
        patient=parent.patient,
        author=author,
        taken_at=taken_at,
        content=content,
        note_type=note_type,
        parent=parent,
    )


@transaction.atomic
def note_retract(*, note: Note, by: User, reason: str) -> Note:
    """Mark a note entered in error: kept, shown as such, out of clinical data."""
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, by)
    if note.is_retracted:
        raise _note_retracted()
    if not reason.strip():
        raise ValidationError({"reason": ValidationError("Give a reason.", code="blank")})
    note.status = NoteStatus.ENTERED_IN_ERROR
    note.retracted_at = timezone.now()
    note.retracted_by = by
    note.retraction_reason = reason.strip()
    note.save(
        update_fields=["status", "retracted_at", "retracted_by", "retraction_reason", "updated_at"]
    )
    return note


@transaction.atomic
def note_delete(*, note: Note, by: User) -> None:
    """Delete a draft (author or Admin) and, once committed, its stored file."""
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, by)
    _ensure_open(note)
    stored = note.file.name or ""
    storage = note.file.storage
    note.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))


def notes_sweep_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue again the notes whose processing is owed (the body of a periodic task).

    * ``pending`` for longer than ``NOTES_SWEEP_INTERVAL_SECONDS``: the broker was down
      when the note was saved or edited, or its message was lost;
    * ``processing`` for longer than ``CELERY_TASK_TIME_LIMIT``: the claim has expired, so
      the worker that took it was lost (no run outlives the hard time limit).

    Oldest first, at most ``limit`` per sweep. Publishing a note twice is harmless (a run
    of a settled note does nothing). Returns how many were queued; stops at the first
    broker failure (the next sweep tries again).
    """
    now = now or timezone.now()
    pending_cutoff = now - timedelta(seconds=settings.NOTES_SWEEP_INTERVAL_SECONDS)
    claim_cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    owed = (
        Note.objects.filter(
            Q(extraction_status=ExtractionStatus.PENDING, updated_at__lt=pending_cutoff)
            | Q(extraction_status=ExtractionStatus.PROCESSING, updated_at__lt=claim_cutoff)
        )
        .order_by("updated_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for note_id in owed:
        if not _publish_processing(str(note_id)):
            break
        queued += 1
    if queued:
        logger.warning("notes sweep: %d note(s) queued again for processing", queued)
    return queued
