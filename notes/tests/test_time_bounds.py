"""A note cannot have been taken before the patient was born."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from notes.models import Note
from notes.tests.factories import make_patient
from notes.tests.helpers import error_codes, note_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("taken_at", ["0001-01-01T00:00:00Z", "1990-05-31T12:00:00Z"])
def test_typed_note_before_birth_is_refused(
    provider_client: APIClient, post_note: Any, taken_at: str
) -> None:
    patient = make_patient(date_of_birth=date(1990, 6, 1))
    response, _ = post_note(provider_client, patient, taken_at=taken_at, content="BP 120/80")
    assert response.status_code == 400
    assert error_codes(response)[1] == ["before_birth"]
    assert not Note.objects.exists()


def test_editing_taken_at_to_before_birth_is_refused(
    provider_client: APIClient, post_note: Any
) -> None:
    patient = make_patient(date_of_birth=date(1990, 6, 1))
    response, note = post_note(
        provider_client, patient, taken_at="1990-06-01T08:00:00Z", content="BP 120/80"
    )
    assert response.status_code == 201, response.json()
    response = provider_client.patch(
        note_url(note["id"]), {"taken_at": "1989-01-01T08:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert error_codes(response)[1] == ["before_birth"]
    assert Note.objects.get().taken_at.year == 1990
