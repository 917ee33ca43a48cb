from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from notes.reading import tesseract_path
from patients.models import Patient

needs_tesseract = pytest.mark.skipif(
    tesseract_path() is None,
    reason="tesseract is not installed (run .ci/install-system-packages)",
)


def notes_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/notes/"


def note_url(note_id: Any, suffix: str = "") -> str:
    return f"/api/v1/notes/{note_id}/" + (f"{suffix}/" if suffix else "")


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def error_codes(response: Any) -> tuple[str, list[str]]:
    body = response.json()
    return body["code"], [e["code"] for e in body["errors"]]


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def build_pdf(objects: list[bytes]) -> bytes:
    """A well-formed PDF from raw object bodies (object 1 must be the catalog)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def many_pages_pdf(pages: int) -> bytes:
    """A tiny file that claims ``pages`` pages (all sharing one content stream)."""
    first_page = 4
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"] * pages
    return build_pdf(objects)


def deflate_bomb_pdf(decompressed_bytes: int) -> bytes:
    """A small PDF whose page content inflates to ``decompressed_bytes`` bytes."""
    import zlib

    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    data = bytearray()
    remaining = decompressed_bytes
    while remaining > 0:
        data += compressor.compress(chunk[: min(remaining, len(chunk))])
        remaining -= len(chunk)
    data += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
        + bytes(data)
        + b"\nendstream",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>",
    ]
    return build_pdf(objects)
