from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from notes.reading import tesseract_path
from notes.tests.factories import make_patient
from notes.tests.helpers import note_url, notes_url
from patients.models import Patient


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> Path:
    """Each test stores files in its own directory, so it can see what is left behind."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def media_root(_media_root: Path) -> Path:
    return _media_root


@pytest.fixture
def without_tesseract(settings: Any) -> None:
    """OCR really unavailable: the configured binary does not exist."""
    settings.NOTES_TESSERACT_CMD = "/nonexistent/tesseract"
    assert tesseract_path() is None


@pytest.fixture
def patient(db: None) -> Patient:
    return make_patient()


@pytest.fixture
def post_note(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a note and run what was queued on commit (the eager Celery task).

    Returns the POST response and, when a note was created, the note as read afterwards.
    """

    def post(client: APIClient, patient: Patient, **data: Any) -> tuple[Any, dict[str, Any]]:
        multipart = "file" in data
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                notes_url(patient), data, format="multipart" if multipart else "json"
            )
        if response.status_code != 201:
            return response, {}
        return response, client.get(note_url(response.json()["id"])).json()

    return post
