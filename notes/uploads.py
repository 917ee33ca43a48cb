"""Bounding note uploads before they reach memory.

Two guards, so that an oversized body is refused with 413 without being read:

* the declared ``Content-Length`` is checked before the parser touches the body;
* the multipart parser counts the file's bytes as they stream in (a body whose length
  was not declared, or lies, stops at the limit).

Files above ``FILE_UPLOAD_MAX_MEMORY_SIZE`` stream to a temporary file, so even an
accepted upload is never held in memory whole while it is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.parsers import MultiPartParser

from core.errors import CoreErrorCode, PayloadTooLarge

# Room for the multipart envelope (boundaries, part headers, small form fields) on top
# of the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def max_upload_bytes() -> int:
    return int(settings.NOTES_MAX_UPLOAD_MB) * 1024 * 1024


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Note files are limited to {settings.NOTES_MAX_UPLOAD_MB} MB.",
        code=CoreErrorCode.REQUEST_TOO_LARGE,
    )


def ensure_declared_length_allowed(meta: Mapping[str, Any]) -> None:
    """413 when the declared body length already exceeds what a note may be."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_upload_bytes() + MULTIPART_OVERHEAD_BYTES:
        raise too_large()


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts uploaded file bytes and stops the upload past the limit (413)."""

    def __init__(self, request: Any = None, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes() if limit is None else limit
        self.received = 0

    def too_large(self) -> PayloadTooLarge:
        """The 413 this upload answers; a subclass for another kind of file names its own."""
        return too_large()

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.limit + MULTIPART_OVERHEAD_BYTES:
            raise self.too_large()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise self.too_large()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class BoundedMultiPartParser(MultiPartParser):
    """``multipart/form-data`` with the note upload limit enforced while streaming."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        assert parser_context is not None
        request = parser_context["request"]
        ensure_declared_length_allowed(request.META)
        django_request = request._request
        django_request.upload_handlers = [
            SizeLimitUploadHandler(django_request),
            *django_request.upload_handlers,
        ]
        return super().parse(stream, media_type, parser_context)
