"""The admin shows notes read-only, on the patient and on their own page."""

from __future__ import annotations

import pytest
from django.test import Client

from notes.tests.factories import make_note
from patients.models import Patient

pytestmark = pytest.mark.django_db


def test_patient_page_shows_notes_readably(admin_client: Client, patient: Patient) -> None:
    note = make_note(patient=patient)
    response = admin_client.get(f"/admin/patients/patient/{patient.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    # The chart's clinical panel (the notes engine's picture) and the timeline.
    assert "Clinical data" in page
    assert "Systolic BP: 142 mmHg" in page
    assert "metoprolol 25 mg PO BID" in page
    assert "lisinopril" not in page  # stopped: not an active medication
    assert "<strong>penicillin</strong> (rash)" in page
    assert 'name="notes-0-content"' not in page  # no stacked note forms
    note_page = admin_client.get(f"/admin/notes/note/{note.pk}/change/").content.decode()
    assert "<dt><strong>Subjective</strong></dt>" in note_page
    assert "lisinopril (stopped)" in note_page


def test_note_page_is_read_only_without_signing(admin_client: Client, patient: Patient) -> None:
    note = make_note(patient=patient)
    listing = admin_client.get("/admin/notes/note/")
    assert listing.status_code == 200
    assert 'name="action"' not in listing.content.decode()  # no bulk actions, no signing
    page = admin_client.get(f"/admin/notes/note/{note.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "typed note" in html
    assert 'name="_save"' not in html
    assert 'name="content"' not in html
    assert admin_client.get("/admin/notes/note/add/").status_code == 200  # typed or uploaded
    assert admin_client.post(f"/admin/notes/note/{note.pk}/delete/").status_code == 403


def test_note_page_links_the_file_to_the_protected_download(
    admin_client: Client, patient: Patient
) -> None:
    from django.utils import timezone

    from accounts.services import user_upsert
    from core.permissions import Role
    from notes.services import note_create_from_upload

    author = user_upsert(username="uploader", role=Role.PROVIDER, password="pw-for-tests-1")
    note = note_create_from_upload(
        patient=patient,
        actor=author,
        taken_at=timezone.now(),
        data=b"BP 120/80",
        file_name="visit.txt",
        declared_type="text/plain",
    )
    page = admin_client.get(f"/admin/notes/note/{note.pk}/change/").content.decode()
    assert f'href="/api/v1/notes/{note.pk}/file"' in page
    assert "/media/" not in page
    download = admin_client.get(f"/api/v1/notes/{note.pk}/file/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="visit.txt"'


def test_admin_configuration_passes_system_checks() -> None:
    from django.core.management import call_command

    call_command("check", "notes", fail_level="WARNING")
