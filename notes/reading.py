"""Getting text out of an uploaded note file: PDF text layers and OCR.

Untrusted files are read under fixed bounds, all settings:

* a PDF may have at most ``NOTES_PDF_MAX_PAGES`` pages (checked at intake, 400
  ``too_many_pages``), and no stream may decompress to more than
  ``NOTES_PDF_MAX_STREAM_BYTES`` (pypdf's own limits, lowered here);
* an image may have at most ``NOTES_MAX_IMAGE_PIXELS`` pixels (400 ``image_too_large``);
* text is cut at ``NOTES_MAX_CONTENT_CHARS`` characters, and the note says so;
* reading one file stops after ``NOTES_EXTRACTION_TIME_LIMIT_SECONDS`` (checked between
  pages, and as the timeout of each OCR run).

OCR runs the ``tesseract`` binary (``NOTES_TESSERACT_CMD``) in a subprocess; when it is
not installed, scanned notes are kept with ``needs_transcription`` instead of an empty
text.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pypdf
from django.conf import settings
from PIL import Image

from core.errors import ApiError
from notes.errors import NoteErrorCode
from notes.files import FileKind
from notes.models import ContentSource

logger = logging.getLogger("clinic.notes")


class NeedsTranscription(Exception):
    """The file holds no machine-readable text that could be read here."""


class ExtractionFailed(Exception):
    """Reading the file failed; the message is shown on the note."""


@dataclass(frozen=True)
class ReadResult:
    text: str
    source: ContentSource
    warning: str = ""


def _file_error(code: NoteErrorCode, detail: str) -> ApiError:
    return ApiError(detail, code=code, errors=[{"field": "file", "code": code, "detail": detail}])


def tesseract_path() -> str | None:
    """The Tesseract binary to run, or ``None`` when it is not installed."""
    return shutil.which(settings.NOTES_TESSERACT_CMD)


@contextlib.contextmanager
def _pdf_limits() -> Iterator[None]:
    limit = settings.NOTES_PDF_MAX_STREAM_BYTES
    with pypdf.apply_configuration(
        disable_legacy_handling=True,
        zlib_maximum_output_length=limit,
        lzw_maximum_output_length=limit,
        run_length_maximum_output_length=limit,
        jbig2_maximum_output_length=limit,
        brotli_maximum_output_length=limit,
        array_based_stream_maximum_output_length=limit,
        image_maximum_buffer_size=limit,
        stream_decoding_work_maximum_length=limit,
        # Counting pages must succeed for "thousands of pages" (refused as too many);
        # beyond this the page tree itself is refused as unreadable.
        page_tree_maximum_entries=max(10_000, settings.NOTES_PDF_MAX_PAGES * 4),
    ):
        yield


def _open_pdf(data: bytes) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise _file_error(NoteErrorCode.UNREADABLE_FILE, "Encrypted PDFs cannot be read.")
        reader.pages[0]
    except ApiError:
        raise
    except Exception as exc:
        # pypdf raises many kinds of errors for malformed input, limits included.
        logger.info("PDF refused at intake: %s", type(exc).__name__)
        raise _file_error(NoteErrorCode.UNREADABLE_FILE, "The PDF could not be read.") from None
    return reader


def check_pdf(data: bytes) -> int:
    """Validate a PDF at intake; return its page count. Nothing is stored on failure."""
    with _pdf_limits():
        reader = _open_pdf(data)
        try:
            pages = len(reader.pages)
        except Exception:
            raise _file_error(NoteErrorCode.UNREADABLE_FILE, "The PDF could not be read.") from None
    if pages > settings.NOTES_PDF_MAX_PAGES:
        raise _file_error(
            NoteErrorCode.TOO_MANY_PAGES,
            f"The PDF has {pages} pages; at most {settings.NOTES_PDF_MAX_PAGES} are accepted.",
        )
    return pages


def check_image(data: bytes) -> tuple[int, int]:
    """Validate an image at intake; return its size."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            image.verify()
    except Image.DecompressionBombError:
        raise _file_error(NoteErrorCode.IMAGE_TOO_LARGE, "The image has too many pixels.") from None
    except Exception:
        raise _file_error(NoteErrorCode.UNREADABLE_FILE, "The image could not be read.") from None
    if size[0] * size[1] > settings.NOTES_MAX_IMAGE_PIXELS:
        raise _file_error(
            NoteErrorCode.IMAGE_TOO_LARGE,
            f"The image has {size[0]}x{size[1]} pixels; at most "
            f"{settings.NOTES_MAX_IMAGE_PIXELS} pixels are accepted.",
        )
    return size


class _Budget:
    """The wall-clock budget for reading one file."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + settings.NOTES_EXTRACTION_TIME_LIMIT_SECONDS

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ExtractionFailed(
                "Reading the file took longer than the limit "
                f"({settings.NOTES_EXTRACTION_TIME_LIMIT_SECONDS:g} s)."
            )
        return left


def _cap(text: str) -> tuple[str, str]:
    limit = settings.NOTES_MAX_CONTENT_CHARS
    if len(text) <= limit:
        return text, ""
    return text[:limit], f"The text was cut at {limit} characters."


def ocr_image(data: bytes, budget: _Budget | None = None) -> str:
    """Text of one PNG/JPEG/TIFF image (every page of a multi-page TIFF)."""
    command = tesseract_path()
    if command is None:
        raise NeedsTranscription(
            "The file is a scanned image and OCR (tesseract) is not installed; "
            "transcribe the note by editing its content."
        )
    budget = budget or _Budget()
    timeout = min(settings.NOTES_OCR_TIMEOUT_SECONDS, budget.remaining())
    try:
        completed = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [command, "stdin", "stdout", "-l", settings.NOTES_TESSERACT_LANG],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        raise ExtractionFailed(f"OCR took longer than {timeout:.0f} s.") from None
    except OSError as exc:
        raise ExtractionFailed(f"OCR could not be started: {exc.strerror}.") from None
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExtractionFailed(f"OCR failed: {lines[-1] if lines else 'no message'}")
    return completed.stdout.decode("utf-8", "replace")


def _pdf_images_as_png(page: pypdf.PageObject) -> Iterator[bytes]:
    for image_file in page.images:
        image = image_file.image
        if image is None:
            continue
        if image.size[0] * image.size[1] > settings.NOTES_MAX_IMAGE_PIXELS:
            raise ExtractionFailed("An image in the PDF has too many pixels for OCR.")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        yield buffer.getvalue()


def _read_pdf(data: bytes) -> ReadResult:
    budget = _Budget()
    with _pdf_limits():
        reader = _open_pdf(data)
        pages = reader.pages[: settings.NOTES_PDF_MAX_PAGES]
        parts: list[str] = []
        total = 0
        try:
            for page in pages:
                budget.remaining()
                # extract_text() swallows decoding limits and answers ""; decoding the
                # content first makes a compression bomb fail instead of looking blank.
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()
                text = page.extract_text() or ""
                parts.append(text)
                total += len(text)
                if total > settings.NOTES_MAX_CONTENT_CHARS:
                    break
        except pypdf.errors.LimitReachedError:
            raise ExtractionFailed("The PDF exceeds the decompression limits.") from None
        except pypdf.errors.PyPdfError as exc:
            raise ExtractionFailed(f"The PDF text could not be read: {exc}") from None
        text = "\n\n".join(p.strip() for p in parts if p.strip())
        if text.strip():
            capped, warning = _cap(text)
            return ReadResult(capped, ContentSource.PDF_TEXT, warning)
        # No text layer: a scanned document. OCR the page images.
        if tesseract_path() is None:
            raise NeedsTranscription(
                "The PDF has no text layer and OCR (tesseract) is not installed; "
                "transcribe the note by editing its content."
            )
        ocr_parts: list[str] = []
        try:
            for page in pages:
                for png in _pdf_images_as_png(page):
                    ocr_parts.append(ocr_image(png, budget).strip())
        except pypdf.errors.LimitReachedError:
            raise ExtractionFailed("The PDF exceeds the decompression limits.") from None
    text = "\n\n".join(p for p in ocr_parts if p)
    if not text.strip():
        raise NeedsTranscription("The PDF has no text layer and OCR found no text in it.")
    capped, warning = _cap(text)
    return ReadResult(capped, ContentSource.OCR, warning)


def read_file(data: bytes, kind: FileKind) -> ReadResult:
    """Text of a stored note file (call from the processing task, not the request)."""
    if kind is FileKind.PDF:
        return _read_pdf(data)
    if kind.is_image:
        text = ocr_image(data)
        if not text.strip():
            raise NeedsTranscription("OCR found no text in the image.")
        capped, warning = _cap(text.strip())
        return ReadResult(capped, ContentSource.OCR, warning)
    raise ValueError(f"{kind} files carry their text and are not read here")
