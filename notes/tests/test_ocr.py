"""Scanned notes: OCR with the real tesseract binary, and needs_transcription without it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notes.tests.helpers import needs_tesseract, note_url, upload
from notes.tests.samples import render_text_image, scanned_pdf
from patients.models import Patient

pytestmark = pytest.mark.django_db

SCANNED_TEXT = (
    "Progress note\n"
    "BP 128/82, HR 74, SpO2 98% on room air.\n"
    "Plan: continue lisinopril 10 mg PO daily."
)


def taken() -> str:
    return (timezone.now() - timedelta(hours=2)).isoformat()


@needs_tesseract
@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("TIFF", "image/tiff")],
)
def test_scanned_image_is_read_by_ocr(
    provider_client: APIClient,
    patient: Patient,
    post_note: Any,
    image_format: str,
    content_type: str,
) -> None:
    raw = render_text_image(SCANNED_TEXT, image_format=image_format)
    response, note = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        file=upload(f"scan.{image_format.lower()}", raw, content_type),
    )
    assert response.status_code == 201, response.json()
    assert note["extraction_status"] == "done", note["extraction_error"]
    assert note["content_source"] == "ocr"
    assert note["file"]["content_type"] == content_type
    assert "lisinopril" in note["content"]
    vitals = note["structured_data"]["vitals"]
    assert vitals["systolic_bp"]["value"] == 128
    assert vitals["heart_rate"]["value"] == 74


@needs_tesseract
def test_scanned_pdf_without_text_layer_is_read_by_ocr(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    raw = scanned_pdf(SCANNED_TEXT)
    _, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload("s.pdf", raw, "application/pdf")
    )
    assert note["extraction_status"] == "done", note["extraction_error"]
    assert note["content_source"] == "ocr"
    assert note["structured_data"]["vitals"]["spo2"]["value"] == 98


@needs_tesseract
def test_image_without_text_needs_transcription(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    raw = render_text_image("")
    _, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload("b.png", raw, "image/png")
    )
    assert note["extraction_status"] == "needs_transcription"
    assert "no text" in note["extraction_error"]


@pytest.mark.usefixtures("without_tesseract")
@pytest.mark.parametrize(
    ("name", "raw", "content_type"),
    [
        ("scan.png", render_text_image(SCANNED_TEXT), "image/png"),
        ("scan.pdf", scanned_pdf(SCANNED_TEXT), "application/pdf"),
    ],
    ids=["image", "scanned-pdf"],
)
def test_without_tesseract_scans_need_transcription(
    provider_client: APIClient,
    patient: Patient,
    post_note: Any,
    django_capture_on_commit_callbacks: Any,
    name: str,
    raw: bytes,
    content_type: str,
) -> None:
    response, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload(name, raw, content_type)
    )
    assert response.status_code == 201
    assert note["extraction_status"] == "needs_transcription"
    assert "tesseract" in note["extraction_error"]
    assert note["content"] == ""
    assert note["structured_data"] == {}
    assert note["file"]["size"] == len(raw)

    # Signing an empty note makes no sense: transcribe first.
    sign = provider_client.post(
        note_url(note["id"], "sign"),
        {"password": "pw-for-tests-1", "meaning": "authorship"},
        format="json",
    )
    assert sign.status_code == 409
    assert sign.json()["code"] == "note_not_transcribed"

    with django_capture_on_commit_callbacks(execute=True):
        edited = provider_client.patch(
            note_url(note["id"]),
            {"content": "Progress note. BP 128/82, HR 74."},
            format="json",
        )
    assert edited.status_code == 200, edited.json()
    note = provider_client.get(note_url(note["id"])).json()
    assert note["content_source"] == "transcribed"
    assert note["extraction_status"] == "done"
    assert note["structured_data"]["vitals"]["systolic_bp"]["value"] == 128

    # Reprocessing keeps the transcription (the file is not read again).
    with django_capture_on_commit_callbacks(execute=True):
        again = provider_client.post(note_url(note["id"], "reprocess"))
    assert again.status_code == 202
    note = provider_client.get(note_url(note["id"])).json()
    assert note["extraction_status"] == "done"
    assert note["content"] == "Progress note. BP 128/82, HR 74."
