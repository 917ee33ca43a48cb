"""Every write to a note goes through here (API, demo seed, tasks)."""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import status

from accounts.lockout import LockedOut, is_locked_out
from core.actors import record_actor
from core.errors import (
    ApiError,
    Conflict,
    CoreErrorCode,
    ServiceUnavailable,
    conflict_from_constraint,
)
from core.permissions import Role, role_of
from core.updates import UNSET, Unset
from notes.errors import NoteErrorCode
from notes.files import FileKind, sniff
from notes.models import (
    SIGNATURE_UNIQUE,
    ContentSource,
    ExtractionStatus,
    Note,
    NoteStatus,
    NoteTypeSource,
    Signature,
    SignatureMeaning,
)
from notes.reading import check_image, check_pdf
from notes.tasks import process_note
from patients.models import Patient

logger = logging.getLogger("clinic.notes")


class InvalidPassword(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = NoteErrorCode.INVALID_PASSWORD
    default_detail = "The password is not correct; the note was not signed."


class NotAuthor(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = NoteErrorCode.NOT_AUTHOR
    default_detail = "Only the note's author or an Admin may do this."


def _note_signed() -> Conflict:
    return Conflict(
        "The note is signed and can no longer change; add an addendum or retract it.",
        code=NoteErrorCode.NOTE_SIGNED,
    )


def _note_retracted() -> Conflict:
    return Conflict(
        "The note was entered in error and is closed.", code=NoteErrorCode.NOTE_RETRACTED
    )


def _already_signed() -> Conflict:
    return Conflict(
        "You have already signed this note with this meaning.", code=NoteErrorCode.ALREADY_SIGNED
    )


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
        raise ValidationError(
            {"content": ValidationError("The note is blank.", code=CoreErrorCode.BLANK)}
        )
    if len(content) > settings.NOTES_MAX_CONTENT_CHARS:
        raise ValidationError(
            {
                "content": ValidationError(
                    f"Notes are limited to {settings.NOTES_MAX_CONTENT_CHARS} characters.",
                    code=NoteErrorCode.TOO_LONG,
                )
            }
        )
    if "\x00" in content:
        raise ValidationError(
            {
                "content": ValidationError(
                    "NUL characters are not allowed.",
                    code=CoreErrorCode.NULL_CHARACTERS_NOT_ALLOWED,
                )
            }
        )


def _publish_processing(note_id: str) -> bool:
    """Publish the processing task now; False (logged) when the broker is unreachable.

    A note that could not be queued stays ``pending`` and is queued again by the
    pending-notes sweep (``notes.tasks.sweep_pending_notes``) once the broker is back.
    """
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
    actor: User,
    taken_at: datetime,
    content: str,
    note_type: str | None = None,
    parent: Note | None = None,
    note_id: uuid.UUID | None = None,
) -> Note:
    """Store a typed note written by ``actor``; extraction and analysis are queued."""
    _check_content(content)
    note = Note(
        id=note_id or uuid.uuid4(),
        patient=patient,
        parent=parent,
        author=actor,
        taken_at=taken_at,
        content=content,
        content_source=ContentSource.TYPED,
    )
    _apply_type(note, note_type)
    note.full_clean(validate_constraints=False)
    record_actor(note, actor)
    note.save(force_insert=True)
    _enqueue_processing(note)
    return note


@transaction.atomic
def note_create_from_upload(
    *,
    patient: Patient,
    actor: User,
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
                code=NoteErrorCode.EMPTY_FILE,
                errors=[{"field": "file", "code": NoteErrorCode.EMPTY_FILE, "detail": "No text."}],
            )
        content, source = sniffed.text, ContentSource.TEXT_FILE
        _check_content(content)
    note = Note(
        id=note_id or uuid.uuid4(),
        patient=patient,
        author=actor,
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
    record_actor(note, actor)
    try:
        note.save(force_insert=True)
    except Exception:
        note.file.storage.delete(stored)
        raise
    _enqueue_processing(note)
    return note


@transaction.atomic
def note_reprocess(*, note: Note, actor: User) -> Note:
    """Read and analyse the note again (after a failure, or with a newer engine).

    Unlike saving a note, reprocessing needs the broker: if the task cannot be published
    after the commit, the note is put back exactly as it was (a ``done`` note stays
    ``done`` and signable) and the call fails with 503 ``service_unavailable``.
    """
    note = Note.objects.select_for_update().get(pk=note.pk)
    record_actor(note, actor)
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
def note_update(
    *,
    note: Note,
    actor: User,
    content: str | Unset = UNSET,
    taken_at: datetime | Unset = UNSET,
    note_type: str | Unset | None = UNSET,
) -> Note:
    """Edit a draft: its text (for a scanned note, the transcription), time or type."""
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, actor)
    _ensure_open(note)
    record_actor(note, actor)
    reanalyse = False
    if content is not UNSET and content != note.content:
        _check_content(content)
        note.content = content
        note.content_source = ContentSource.TRANSCRIBED if note.file else ContentSource.TYPED
        reanalyse = True
    if note_type is not UNSET and (note_type or "") != note.client_note_type:
        _apply_type(note, note_type)
        reanalyse = True
    if taken_at is not UNSET:
        note.taken_at = taken_at
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
    actor: User,
    password: str,
    meaning: str,
    request: HttpRequest | None = None,
) -> Signature:
    """Sign ``note`` as ``actor`` after re-checking their password (21 CFR 11.200: each
    signing re-authenticates). The signature keeps the SHA-256 of the signed text.

    With the HTTP ``request`` the check goes through ``authenticate`` and so through the
    sign-in lockout (accounts.lockout): wrong passwords count as failed sign-ins, and a
    locked-out account cannot sign (429 ``locked_out``). Without one (in-process callers
    such as the demo seeder) the password is checked directly."""
    if request is None:
        if not actor.check_password(password):
            raise InvalidPassword()
        return _record_signature(note=note, signer=actor, meaning=SignatureMeaning(meaning))
    authenticated = authenticate(request, username=actor.get_username(), password=password)
    if authenticated is None and is_locked_out(request):
        raise LockedOut()
    if authenticated is None or authenticated.pk != actor.pk:
        raise InvalidPassword()
    return _record_signature(note=note, signer=actor, meaning=SignatureMeaning(meaning))


@transaction.atomic
def _record_signature(*, note: Note, signer: User, meaning: str) -> Signature:
    note = Note.objects.select_for_update().get(pk=note.pk)
    if note.is_retracted:
        raise _note_retracted()
    if note.extraction_status in (ExtractionStatus.PENDING, ExtractionStatus.PROCESSING):
        raise Conflict(
            "The note is still being read; sign it once extraction has finished.",
            code=NoteErrorCode.EXTRACTION_PENDING,
        )
    if not note.content.strip():
        raise Conflict(
            "The note has no text to sign; transcribe it first.",
            code=NoteErrorCode.NOTE_NOT_TRANSCRIBED,
        )
    if Signature.objects.filter(note=note, signer=signer, meaning=meaning).exists():
        raise _already_signed()
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
        raise conflict_from_constraint(exc, {SIGNATURE_UNIQUE: _already_signed()}) from exc
    if note.status != NoteStatus.SIGNED:
        record_actor(note, signer)
        note.status = NoteStatus.SIGNED
        note.save(update_fields=["status", "updated_at"])
    return signature


@transaction.atomic
def note_add_addendum(
    *,
    parent: Note,
    actor: User,
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
            code=NoteErrorCode.NOTE_IS_ADDENDUM,
        )
    if not parent.is_signed:
        raise Conflict(
            "Only signed notes take addenda; edit the draft instead.",
            code=NoteErrorCode.NOTE_NOT_SIGNED,
        )
    if taken_at < parent.taken_at:
        raise ValidationError(
            {
                "taken_at": ValidationError(
                    "An addendum cannot be dated before the note it adds to.",
                    code=NoteErrorCode.BEFORE_PARENT,
                )
            }
        )
    return note_create_from_text(
        patient=parent.patient,
        actor=actor,
        taken_at=taken_at,
        content=content,
        note_type=note_type,
        parent=parent,
    )


@transaction.atomic
def note_retract(*, note: Note, actor: User, reason: str) -> Note:
    """Mark a note entered in error: kept, shown as such, out of clinical data."""
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, actor)
    record_actor(note, actor)
    if note.is_retracted:
        raise _note_retracted()
    if not reason.strip():
        raise ValidationError(
            {"reason": ValidationError("Give a reason.", code=CoreErrorCode.BLANK)}
        )
    note.status = NoteStatus.ENTERED_IN_ERROR
    note.retracted_at = timezone.now()
    note.retracted_by = actor
    note.retraction_reason = reason.strip()
    note.save(
        update_fields=["status", "retracted_at", "retracted_by", "retraction_reason", "updated_at"]
    )
    return note


@transaction.atomic
def note_delete(*, note: Note, actor: User) -> None:
    """Delete a draft (author or Admin) and, once committed, its stored file."""
    note = Note.objects.select_for_update().get(pk=note.pk)
    _ensure_author_or_admin(note, actor)
    _ensure_open(note)
    record_actor(note, actor)
    stored = note.file.name or ""
    storage = note.file.storage
    note.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
