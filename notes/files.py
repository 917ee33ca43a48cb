"""What an uploaded note file really is, decided by its bytes (magic numbers).

The name and the declared content type are never trusted: a declared type that
contradicts the bytes is refused (415), and so is every format not listed here. Text
must be UTF-8 (a BOM is fine); other encodings are refused rather than guessed, since a
wrong guess silently corrupts clinical text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.errors import ApiError, CoreErrorCode, ErrorCode, UnsupportedMediaType
from notes.errors import NoteErrorCode


class FileKind(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"

    @property
    def is_image(self) -> bool:
        return self in (FileKind.PNG, FileKind.JPEG, FileKind.TIFF)


CONTENT_TYPES: dict[FileKind, str] = {
    FileKind.TEXT: "text/plain; charset=utf-8",
    FileKind.MARKDOWN: "text/markdown; charset=utf-8",
    FileKind.PDF: "application/pdf",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
    FileKind.TIFF: "image/tiff",
}

# Declared types (without parameters) that agree with each kind of bytes.
_COMPATIBLE: dict[FileKind, frozenset[str]] = {
    FileKind.TEXT: frozenset({"text/plain", "text/markdown", "text/x-markdown"}),
    FileKind.PDF: frozenset({"application/pdf", "application/x-pdf"}),
    FileKind.PNG: frozenset({"image/png"}),
    FileKind.JPEG: frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
    FileKind.TIFF: frozenset({"image/tiff", "image/tif"}),
}
# Declared types that say nothing about the content; the bytes decide alone.
_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})
_MARKDOWN_SUFFIXES = (".md", ".markdown")

_SIGNATURES: tuple[tuple[bytes, FileKind], ...] = (
    (b"%PDF-", FileKind.PDF),
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
)
UTF8_BOM = b"\xef\xbb\xbf"
# Control characters that plain text never contains (tab, LF, FF and CR are fine).
_TEXT_CONTROLS = frozenset(range(0x00, 0x20)) - {0x09, 0x0A, 0x0C, 0x0D}


@dataclass(frozen=True)
class SniffedFile:
    kind: FileKind
    content_type: str
    text: str | None = None  # the decoded text, for text kinds


def _file_error(code: NoteErrorCode, detail: str) -> ApiError:
    return ApiError(detail, code=code, errors=[{"field": "file", "code": code, "detail": detail}])


def _unsupported(
    detail: str, code: ErrorCode = CoreErrorCode.UNSUPPORTED_MEDIA_TYPE
) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        detail, code=code, errors=[{"field": "file", "code": code, "detail": detail}]
    )


def _binary_kind(data: bytes) -> FileKind | None:
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    return None


def _decode_text(data: bytes) -> str:
    """UTF-8 text (BOM stripped), or a 400 / 415 explaining why it is not."""
    body = data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data
    if b"\x00" in body:
        raise _unsupported("The file is binary data of an unsupported type.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        if any(byte in _TEXT_CONTROLS for byte in body):
            raise _unsupported("The file is binary data of an unsupported type.") from None
        raise _file_error(
            NoteErrorCode.INVALID_ENCODING,
            "Text files must be UTF-8 encoded. Re-save the file as UTF-8 and upload it again.",
        ) from None
    if any(ord(ch) in _TEXT_CONTROLS for ch in text):
        raise _unsupported("The file is binary data of an unsupported type.")
    return text


def _base_type(declared: str | None) -> str:
    return (declared or "").split(";", 1)[0].strip().lower()


def sniff(data: bytes, *, declared_type: str | None, name: str = "") -> SniffedFile:
    """Identify ``data``; raise 400 ``empty_file`` / ``invalid_encoding`` or 415
    ``unsupported_media_type`` / ``content_type_mismatch``."""
    if not data:
        raise _file_error(NoteErrorCode.EMPTY_FILE, "The submitted file is empty.")
    declared = _base_type(declared_type)
    kind = _binary_kind(data)
    text: str | None = None
    if kind is None:
        text = _decode_text(data)
        kind = FileKind.TEXT
    if declared not in _GENERIC and declared not in _COMPATIBLE[kind]:
        raise _unsupported(
            f"The file's content is {kind.value}, but it was declared as {declared}.",
            code=NoteErrorCode.CONTENT_TYPE_MISMATCH,
        )
    if kind is FileKind.TEXT and (
        declared in _MARKDOWN_TYPES or name.lower().endswith(_MARKDOWN_SUFFIXES)
    ):
        kind = FileKind.MARKDOWN
    return SniffedFile(kind=kind, content_type=CONTENT_TYPES[kind], text=text)


def kind_of(content_type: str) -> FileKind:
    """The kind of a stored file, from the content type recorded at intake."""
    for kind, stored in CONTENT_TYPES.items():
        if stored == content_type:
            return kind
    raise ValueError(f"not a note file content type: {content_type!r}")
