"""The notes slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class NoteErrorCode(ErrorCode):
    NOTE_SIGNED = "note_signed"
    NOTE_RETRACTED = "note_retracted"
    EXTRACTION_PENDING = "extraction_pending"
    NOTE_NOT_TRANSCRIBED = "note_not_transcribed"
    ALREADY_SIGNED = "already_signed"
    NOTE_IS_ADDENDUM = "note_is_addendum"
    NOTE_NOT_SIGNED = "note_not_signed"
    INVALID_PASSWORD = "invalid_password"  # noqa: S105 (an error code, not a secret)
    NOT_AUTHOR = "not_author"
    # Uploads: the code is also the file field's code inside ``errors``.
    EMPTY_FILE = "empty_file"
    INVALID_ENCODING = "invalid_encoding"
    UNREADABLE_FILE = "unreadable_file"
    TOO_MANY_PAGES = "too_many_pages"
    IMAGE_TOO_LARGE = "image_too_large"
    CONTENT_TYPE_MISMATCH = "content_type_mismatch"
    # Field codes (inside ``errors``).
    TOO_LONG = "too_long"
    BEFORE_PARENT = "before_parent"
