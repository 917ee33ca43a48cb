"""The import upload: ``multipart/form-data`` with IMPORT_MAX_FILE_MB enforced while the
body streams in (the same two guards as note uploads: the declared length, then the
bytes counted), so an oversized file is a 413 without being read whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.parsers import MultiPartParser

from core.errors import PayloadTooLarge
from notes.uploads import MULTIPART_OVERHEAD_BYTES, SizeLimitUploadHandler
from transfers.errors import TransferErrorCode as Code
from transfers.services import max_file_bytes


def too_large() -> PayloadTooLarge:
    from django.conf import settings

    return PayloadTooLarge(
        f"Import files are limited to {settings.IMPORT_MAX_FILE_MB} MB.",
        code=Code.FILE_TOO_LARGE,
    )


class ImportUploadHandler(SizeLimitUploadHandler):
    def too_large(self) -> PayloadTooLarge:
        return too_large()


class ImportMultiPartParser(MultiPartParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        assert parser_context is not None
        request = parser_context["request"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_file_bytes() + MULTIPART_OVERHEAD_BYTES:
            raise too_large()
        django_request = request._request
        django_request.upload_handlers = [
            ImportUploadHandler(django_request, limit=max_file_bytes()),
            *django_request.upload_handlers,
        ]
        return super().parse(stream, media_type, parser_context)
