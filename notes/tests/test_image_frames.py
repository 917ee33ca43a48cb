"""Multi-frame images at intake: every frame is measured, and the frame count is bounded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from notes.models import Note
from notes.tests.helpers import stored_files, upload
from patients.models import Patient

pytestmark = pytest.mark.django_db


def tiff(*sizes: tuple[int, int]) -> bytes:
    frames = [Image.new("1", size, 1) for size in sizes]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="group4"
    )
    return buffer.getvalue()


def post_tiff(client: APIClient, patient: Patient, post_note: Any, raw: bytes) -> Any:
    response, _ = post_note(
        client,
        patient,
        taken_at=timezone.now().isoformat(),
        file=upload("scan.tiff", raw, "image/tiff"),
    )
    return response


def test_a_large_second_page_is_refused_though_the_first_is_small(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any, media_root: Path
) -> None:
    settings.NOTES_MAX_IMAGE_PIXELS = 100_000
    response = post_tiff(provider_client, patient, post_note, tiff((10, 10), (400, 300)))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "image_too_large"
    assert "Frame 2" in body["detail"] and "400x300" in body["detail"]
    assert Note.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_real_attack_size_is_refused(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    # 10x10 then 9000x9000 (81 MP against the default 40 MP); group 4 keeps it small.
    raw = tiff((10, 10), (9000, 9000))
    assert len(raw) < 200_000
    response = post_tiff(provider_client, patient, post_note, raw)
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large"
    assert Note.objects.count() == 0


def test_too_many_frames_are_refused(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any, media_root: Path
) -> None:
    settings.NOTES_MAX_IMAGE_FRAMES = 3
    response = post_tiff(provider_client, patient, post_note, tiff(*[(20, 20)] * 4))
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_frames"
    assert "4 frames" in response.json()["detail"]
    assert Note.objects.count() == 0


def test_frames_within_the_limits_are_accepted(
    provider_client: APIClient, patient: Patient, post_note: Any, settings: Any
) -> None:
    settings.NOTES_MAX_IMAGE_FRAMES = 3
    settings.NOTES_MAX_IMAGE_PIXELS = 100_000
    response = post_tiff(provider_client, patient, post_note, tiff((10, 10), (300, 300), (20, 20)))
    assert response.status_code == 201, response.json()
    assert Note.objects.count() == 1
