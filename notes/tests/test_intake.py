"""Note intake: typed JSON and uploaded files, each accepted and rejected input."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import PayloadTooLarge
from notes.models import Note
from notes.tests.factories import SOAP_NOTE, make_patient
from notes.tests.helpers import (
    deflate_bomb_pdf,
    error_codes,
    many_pages_pdf,
    note_url,
    notes_url,
    stored_files,
    upload,
)
from notes.tests.samples import render_text_image, text_pdf
from notes.uploads import SizeLimitUploadHandler
from patients.models import Patient

pytestmark = pytest.mark.django_db


def taken(hours: float = 1) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat()


def assert_nothing_stored(media_root: Path) -> None:
    assert Note.objects.count() == 0
    assert stored_files(media_root) == []


# --- Typed notes ---------------------------------------------------------------------------


def test_typed_soap_note_is_read_after_commit(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    response, note = post_note(provider_client, patient, taken_at=taken(), content=SOAP_NOTE)
    assert response.status_code == 201, response.json()
    # The POST answers before the queued task ran (tests keep the transaction open).
    assert response.json()["extraction_status"] == "pending"
    assert response["Location"] == note_url(note["id"]).rstrip("/")
    assert note["extraction_status"] == "done"
    assert note["content"] == SOAP_NOTE
    assert note["content_source"] == "typed"
    assert note["file"] is None
    assert set(note["sections"]) == {"subjective", "objective", "assessment_and_plan"}
    assert note["note_type"] == "progress"
    assert note["note_type_source"] == "auto"
    assert 0 < note["note_type_confidence"] <= 1
    data = note["structured_data"]
    assert data["vitals"]["systolic_bp"]["value"] == 142
    assert data["vitals"]["temperature_c"]["value"] == pytest.approx(37.3)
    assert data["vitals"]["weight_kg"]["value"] == pytest.approx(81.6)
    meds = {m["name"]: m for m in data["medications"]}
    assert meds["metoprolol"]["dose"] == "25 mg" and meds["metoprolol"]["frequency"] == "BID"
    assert meds["lisinopril"]["status"] == "stopped"
    assert data["allergies"][0]["substance"] == "penicillin"
    assert [d["text"] for d in data["diagnoses"]] == ["Hypertension"]
    span = data["vitals"]["systolic_bp"]["span"]
    assert note["content"][span["start"] : span["end"]] == span["text"]


@pytest.mark.django_db(transaction=True)
def test_embedded_default_has_read_the_note_when_the_response_is_built(
    provider_client: APIClient,
) -> None:
    patient = make_patient()
    response = provider_client.post(
        notes_url(patient), {"taken_at": taken(), "content": SOAP_NOTE}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["extraction_status"] == "done"
    assert response.json()["structured_data"]["vitals"]["heart_rate"]["value"] == 92


def test_client_note_type_is_kept(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    _, note = post_note(
        provider_client, patient, taken_at=taken(), content=SOAP_NOTE, note_type="consult"
    )
    assert note["note_type"] == "consult"
    assert note["note_type_source"] == "client"
    assert note["note_type_confidence"] is None


def test_free_text_note_has_no_sections(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    text = "Discharge summary. Admitted with pneumonia, treated and improved. NKDA."
    _, note = post_note(provider_client, patient, taken_at=taken(), content=text)
    assert note["sections"] is None
    assert note["note_type"] == "discharge"
    assert note["structured_data"]["no_known_allergies"] is True


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"content": "x", "note_type": "radiology"}, "note_type", "invalid_choice"),
        ({"content": "   \n "}, "content", "blank"),
        ({"content": ""}, "content", "blank"),
        ({"content": "a\x00b"}, "content", "invalid"),
        ({"content": "x", "taken_at": "2026-01-01T09:00:00"}, "taken_at", "naive"),
        ({"content": "x", "taken_at": "not a date"}, "taken_at", "invalid"),
        ({"content": "x", "mood": "good"}, "mood", "unknown_field"),
        ({"taken_at": "2026-01-01T09:00:00Z"}, "content", "required"),
    ],
)
def test_typed_note_rejections(
    provider_client: APIClient,
    patient: Patient,
    payload: dict[str, Any],
    field: str,
    code: str,
) -> None:
    body = {"taken_at": taken(), **payload}
    response = provider_client.post(notes_url(patient), body, format="json")
    assert response.status_code == 400, response.json()
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert Note.objects.count() == 0


def test_taken_at_in_the_future_beyond_skew_is_refused(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    later = (timezone.now() + timedelta(minutes=10)).isoformat()
    response, _ = post_note(provider_client, patient, taken_at=later, content="x note")
    assert response.status_code == 400
    assert error_codes(response)[1] == ["future"]
    soon = (timezone.now() + timedelta(minutes=3)).isoformat()
    response, _ = post_note(provider_client, patient, taken_at=soon, content="x note")
    assert response.status_code == 201


def test_unknown_patient_is_404(provider_client: APIClient, db: None) -> None:
    response = provider_client.post(
        "/api/v1/patients/5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11/notes/",
        {"taken_at": taken(), "content": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_other_request_content_types_are_415(provider_client: APIClient, patient: Patient) -> None:
    response = provider_client.generic(
        "POST", notes_url(patient), "BP 120/80", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- Uploaded text -------------------------------------------------------------------------


def test_utf8_text_file(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = "Progress note. Température 38.2 C. HR 101. Plan: paracetamol 1 g PO q6h.".encode()
    response, note = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        file=upload("visit.txt", raw, "text/plain"),
    )
    assert response.status_code == 201, response.json()
    assert note["content"] == raw.decode()
    assert note["content_source"] == "text_file"
    assert note["extraction_status"] == "done"
    assert note["structured_data"]["vitals"]["heart_rate"]["value"] == 101
    assert note["file"] == {
        "name": "visit.txt",
        "content_type": "text/plain; charset=utf-8",
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "download_url": note_url(note["id"], "file").rstrip("/"),
    }
    (stored,) = stored_files(media_root)
    assert stored.read_bytes() == raw
    # The stored name is random, not the upload's name or anything about the patient.
    assert "visit" not in str(stored) and str(patient.pk) not in str(stored)


def test_utf8_bom_is_dropped_and_markdown_recognised(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    raw = b"\xef\xbb\xbf# Progress note\n\n- BP 118/76, HR 64\n"
    response, note = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        file=upload("note.md", raw, "application/octet-stream"),
    )
    assert response.status_code == 201, response.json()
    assert note["content"].startswith("# Progress note")
    assert note["file"]["content_type"] == "text/markdown; charset=utf-8"
    assert note["structured_data"]["vitals"]["systolic_bp"]["value"] == 118


def test_latin1_text_is_invalid_encoding(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = "Patient se plaint de fièvre. Température 38,5.".encode("latin-1")
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("n.txt", raw, "text/plain")
    )
    assert response.status_code == 400
    assert error_codes(response) == ("invalid_encoding", ["invalid_encoding"])
    assert_nothing_stored(media_root)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \n\t \n"],
    ids=["zero-bytes", "whitespace-only"],
)
def test_empty_file_is_400(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path, raw: bytes
) -> None:
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("n.txt", raw, "text/plain")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "empty_file"
    assert_nothing_stored(media_root)


# --- Refused by their bytes ----------------------------------------------------------------

ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20 + b"note.txt" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
PNG = render_text_image("BP 120/80")


@pytest.mark.parametrize(
    ("name", "raw", "declared", "code"),
    [
        ("note.txt", ZIP, "text/plain", "unsupported_media_type"),
        ("note.zip", ZIP, "application/zip", "unsupported_media_type"),
        ("note.pdf", EXE, "application/pdf", "unsupported_media_type"),
        ("setup.exe", EXE, "application/octet-stream", "unsupported_media_type"),
        ("note.pdf", PNG, "application/pdf", "content_type_mismatch"),
        ("note.png", b"BP 120/80 HR 70", "image/png", "content_type_mismatch"),
        ("note.txt", b"%PDF-1.4 not really", "text/plain", "content_type_mismatch"),
        ("note.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/gif", "unsupported_media_type"),
    ],
    ids=[
        "zip-renamed-txt",
        "zip",
        "exe-renamed-pdf",
        "exe",
        "png-declared-pdf",
        "text-declared-png",
        "pdf-declared-text",
        "gif",
    ],
)
def test_refused_files_are_415_and_not_stored(
    provider_client: APIClient,
    patient: Patient,
    post_note: Any,
    media_root: Path,
    name: str,
    raw: bytes,
    declared: str,
    code: str,
) -> None:
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload(name, raw, declared)
    )
    assert response.status_code == 415, response.json()
    assert error_codes(response) == (code, [code])
    assert_nothing_stored(media_root)


# --- PDFs ----------------------------------------------------------------------------------


def test_pdf_with_text_layer(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = text_pdf("Progress note\nS: cough for 3 days.\nO: BP 131/84, HR 88, SpO2 95% RA.")
    response, note = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        file=upload("scan.pdf", raw, "application/pdf"),
    )
    assert response.status_code == 201, response.json()
    assert note["extraction_status"] == "done"
    assert note["content_source"] == "pdf_text"
    assert "cough for 3 days" in note["content"]
    assert note["structured_data"]["vitals"]["spo2"]["value"] == 95
    assert note["file"]["content_type"] == "application/pdf"


def test_unparseable_pdf_is_400_unreadable_and_nothing_stored(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R\n%%garbage, no xref, no trailer"
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("x.pdf", raw, "application/pdf")
    )
    assert response.status_code == 400
    assert error_codes(response) == ("unreadable_file", ["unreadable_file"])
    assert_nothing_stored(media_root)


def test_pdf_claiming_thousands_of_pages_is_refused(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = many_pages_pdf(3000)
    assert len(raw) < 400_000
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("x.pdf", raw, "application/pdf")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_pages"
    assert "3000 pages" in response.json()["detail"]
    assert_nothing_stored(media_root)


def test_pdf_whose_stream_inflates_past_the_limit_fails_bounded(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any
) -> None:
    settings.NOTES_PDF_MAX_STREAM_BYTES = 1_000_000
    raw = deflate_bomb_pdf(8_000_000)
    assert len(raw) < 50_000  # a small file that claims a lot
    response, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload("b.pdf", raw, "application/pdf")
    )
    assert response.status_code == 201
    assert note["extraction_status"] == "failed"
    assert "decompression limits" in note["extraction_error"]
    assert note["content"] == ""


def test_pdf_reading_stops_at_the_time_budget(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any
) -> None:
    settings.NOTES_EXTRACTION_TIME_LIMIT_SECONDS = 0
    raw = text_pdf("BP 120/80", pages=2)
    _, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload("t.pdf", raw, "application/pdf")
    )
    assert note["extraction_status"] == "failed"
    assert "longer than the limit" in note["extraction_error"]


def test_extracted_text_is_cut_at_the_content_limit(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any
) -> None:
    settings.NOTES_MAX_CONTENT_CHARS = 40
    raw = text_pdf("Progress note. BP 120/80. " * 10)
    _, note = post_note(
        provider_client, patient, taken_at=taken(), file=upload("t.pdf", raw, "application/pdf")
    )
    assert note["extraction_status"] == "done"
    assert len(note["content"]) == 40
    assert "cut at 40 characters" in note["extraction_error"]


def test_corrupt_image_is_400_unreadable(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"broken" * 10
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("x.png", raw, "image/png")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unreadable_file"
    assert_nothing_stored(media_root)


def test_image_with_too_many_pixels_is_refused(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any, media_root: Path
) -> None:
    settings.NOTES_MAX_IMAGE_PIXELS = 10_000
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("x.png", PNG, "image/png")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large"
    assert_nothing_stored(media_root)


# --- Size limit ----------------------------------------------------------------------------


def test_file_over_the_limit_is_413_before_parsing(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any, media_root: Path
) -> None:
    settings.NOTES_MAX_UPLOAD_MB = 1
    raw = b"BP 120/80\n" * 130_000  # 1.3 MB
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("big.txt", raw, "text/plain")
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert_nothing_stored(media_root)


def test_file_just_over_the_limit_is_stopped_while_streaming(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any, media_root: Path
) -> None:
    # Within the allowance for the multipart envelope, so only the byte count stops it.
    settings.NOTES_MAX_UPLOAD_MB = 1
    raw = b"x" * (1024 * 1024 + 10)
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("big.txt", raw, "text/plain")
    )
    assert response.status_code == 413
    assert_nothing_stored(media_root)


def test_file_at_the_limit_is_accepted(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any
) -> None:
    settings.NOTES_MAX_UPLOAD_MB = 1
    settings.NOTES_MAX_CONTENT_CHARS = 2 * 1024 * 1024
    raw = b"BP 120/80 " * (1024 * 1024 // 10)
    response, _ = post_note(
        provider_client, patient, taken_at=taken(), file=upload("ok.txt", raw, "text/plain")
    )
    assert response.status_code == 201, response.json()


def test_upload_handler_counts_streamed_bytes() -> None:
    handler = SizeLimitUploadHandler(limit=10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(PayloadTooLarge):
        handler.receive_data_chunk(b"123456", 5)


def test_oversized_json_body_is_413(
    provider_client: APIClient, patient: Patient, settings: Any
) -> None:
    settings.NOTES_MAX_UPLOAD_MB = 1
    response = provider_client.post(
        notes_url(patient), {"taken_at": taken(), "content": "x" * 1_200_000}, format="json"
    )
    assert response.status_code == 413


# --- Multipart form fields ----------------------------------------------------------------


def test_multipart_is_strict_about_fields(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    response, _ = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        content="typed too",
        file=upload("n.txt", b"BP 120/80", "text/plain"),
    )
    assert response.status_code == 400
    assert error_codes(response)[1] == ["unknown_field"]


def test_multipart_requires_offset_and_a_real_file(
    provider_client: APIClient, patient: Patient, post_note: Any
) -> None:
    response, _ = post_note(
        provider_client,
        patient,
        taken_at="2026-01-01T10:00:00",
        file=upload("n.txt", b"BP 120/80", "text/plain"),
    )
    assert response.status_code == 400
    assert error_codes(response)[1] == ["naive"]
    response = provider_client.post(
        notes_url(patient), {"taken_at": taken(), "file": "not a file"}, format="multipart"
    )
    assert response.status_code == 400
    assert error_codes(response)[1] == ["invalid"]


def test_multipart_note_type(provider_client: APIClient, patient: Patient, post_note: Any) -> None:
    _, note = post_note(
        provider_client,
        patient,
        taken_at=taken(),
        note_type="procedure",
        file=upload("n.txt", b"Procedure: lumbar puncture.", "text/plain"),
    )
    assert note["note_type"] == "procedure" and note["note_type_source"] == "client"
