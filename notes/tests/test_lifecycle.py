"""Editing, signing, addenda, retraction, reprocessing and deletion of notes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from core.permissions import Role
from core.tests.clients import UserClient
from notes.models import ExtractionStatus, Note, NoteStatus, Signature
from notes.processing import note_process
from notes.tests.factories import SOAP_NOTE, make_note
from notes.tests.helpers import note_url, stored_files, upload
from patients.models import Patient

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


def client_of(user: User) -> APIClient:
    token, _ = token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def author_client(provider_client: UserClient) -> UserClient:
    return provider_client


@pytest.fixture
def authored_note(provider_client: UserClient, patient: Patient) -> Note:
    return make_note(patient=patient, author=provider_client.user)


def sign(client: APIClient, note: Note | str, meaning: str = "authorship", **extra: Any) -> Any:
    note_id = note.pk if isinstance(note, Note) else note
    payload = {"password": PASSWORD, "meaning": meaning, **extra}
    return client.post(note_url(note_id, "sign"), payload, format="json")


# --- Signing -------------------------------------------------------------------------------


def test_sign_records_who_when_meaning_and_hash(
    author_client: UserClient, authored_note: Note
) -> None:
    response = sign(author_client, authored_note)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "signed"
    (signature,) = body["signatures"]
    assert signature["meaning"] == "authorship"
    assert signature["signer_id"] == author_client.user.pk
    assert signature["signer_name"] == "provider-user"  # no full name: the username
    assert signature["content_sha256"] == hashlib.sha256(SOAP_NOTE.encode()).hexdigest()
    assert body["content_sha256"] == signature["content_sha256"]
    assert "password" not in str(body)
    stored = Signature.objects.get()
    assert abs((timezone.now() - stored.signed_at).total_seconds()) < 60


def test_signer_full_name_is_recorded(make_user: Callable[..., User], patient: Patient) -> None:
    user = make_user(Role.PROVIDER, username="dr-ode", first_name="Ada", last_name="Ode")
    note = make_note(patient=patient, author=user)
    assert sign(client_of(user), note).status_code == 200
    assert Signature.objects.get().signer_name == "Ada Ode"


def test_wrong_password_is_403_and_nothing_signed(
    author_client: APIClient, authored_note: Note
) -> None:
    response = sign(author_client, authored_note, password="not-my-password")
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_password"
    authored_note.refresh_from_db()
    assert authored_note.status == NoteStatus.DRAFT
    assert not Signature.objects.exists()


def test_sign_validates_input(author_client: APIClient, authored_note: Note) -> None:
    response = sign(author_client, authored_note, meaning="witness")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "meaning"
    response = author_client.post(note_url(authored_note.pk, "sign"), {}, format="json")
    assert {e["field"] for e in response.json()["errors"]} == {"password", "meaning"}


def test_same_signer_and_meaning_twice_is_409_other_meanings_and_signers_are_fine(
    author_client: APIClient, authored_note: Note, make_user: Callable[..., User]
) -> None:
    assert sign(author_client, authored_note).status_code == 200
    again = sign(author_client, authored_note)
    assert again.status_code == 409
    assert again.json()["code"] == "already_signed"
    assert sign(author_client, authored_note, meaning="approval").status_code == 200
    reviewer = make_user(Role.PROVIDER, username="reviewer")
    assert sign(client_of(reviewer), authored_note, meaning="review").status_code == 200
    assert Signature.objects.filter(note=authored_note).count() == 3


def test_viewer_cannot_sign(viewer_client: APIClient, authored_note: Note) -> None:
    assert sign(viewer_client, authored_note).status_code == 403


def test_signing_waits_for_extraction(author_client: APIClient, patient: Patient) -> None:
    response = author_client.post(
        f"/api/v1/patients/{patient.pk}/notes/",
        {"taken_at": timezone.now().isoformat(), "content": SOAP_NOTE},
        format="json",
    )
    # The queued task has not run (the test transaction never commits).
    assert response.json()["extraction_status"] == "pending"
    signed = sign(author_client, response.json()["id"])
    assert signed.status_code == 409
    assert signed.json()["code"] == "extraction_pending"


def test_signing_attempts_are_throttled(
    author_client: APIClient, authored_note: Note, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "note_sign": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    codes = [sign(author_client, authored_note, password="wrong").status_code for _ in range(3)]
    assert codes == [403, 403, 429]
    assert author_client.get(note_url(authored_note.pk)).status_code == 200


# --- Locked after signing ------------------------------------------------------------------


def test_signed_note_cannot_be_edited_or_deleted(
    author_client: APIClient, authored_note: Note, admin_client_api: APIClient
) -> None:
    assert sign(author_client, authored_note).status_code == 200
    for client in (author_client, admin_client_api):
        patch = client.patch(note_url(authored_note.pk), {"content": "changed"}, format="json")
        assert patch.status_code == 409
        assert patch.json()["code"] == "note_signed"
        delete = client.delete(note_url(authored_note.pk))
        assert delete.status_code == 409
        assert delete.json()["code"] == "note_signed"
    authored_note.refresh_from_db()
    assert authored_note.content == SOAP_NOTE


def test_signed_upload_keeps_its_file(
    provider_client: APIClient, patient: Patient, post_note: Any, media_root: Path
) -> None:
    raw = b"Progress note. BP 120/80."
    _, note = post_note(
        provider_client,
        patient,
        taken_at=timezone.now().isoformat(),
        file=upload("n.txt", raw, "text/plain"),
    )
    assert sign(provider_client, note["id"]).status_code == 200
    assert provider_client.delete(note_url(note["id"])).status_code == 409
    assert [p.read_bytes() for p in stored_files(media_root)] == [raw]


def test_reprocessing_a_signed_note_does_not_change_its_text(
    author_client: APIClient, authored_note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    assert sign(author_client, authored_note).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(note_url(authored_note.pk, "reprocess"))
    assert response.status_code == 202
    authored_note.refresh_from_db()
    assert authored_note.extraction_status == ExtractionStatus.DONE
    assert authored_note.content == SOAP_NOTE
    assert authored_note.status == NoteStatus.SIGNED


# --- Editing drafts ------------------------------------------------------------------------


def test_author_edits_a_draft_and_it_is_read_again(
    author_client: APIClient, authored_note: Note, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.patch(
            note_url(authored_note.pk),
            {"content": "Progress note. HR 55. Started amlodipine 5 mg PO daily."},
            format="json",
        )
    assert response.status_code == 200, response.json()
    body = author_client.get(note_url(authored_note.pk)).json()
    assert body["extraction_status"] == "done"
    assert body["structured_data"]["vitals"] == {
        "heart_rate": {
            "value": 55,
            "unit": "/min",
            "span": {"text": "HR 55", "start": 15, "end": 20},
        }
    }
    assert body["structured_data"]["medications"][0]["name"] == "amlodipine"
    assert body["sections"] is None


def test_edit_note_type_and_taken_at(author_client: APIClient, authored_note: Note) -> None:
    earlier = (timezone.now() - timedelta(days=2)).isoformat()
    response = author_client.patch(
        note_url(authored_note.pk), {"note_type": "consult", "taken_at": earlier}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["note_type"] == "consult"
    assert response.json()["note_type_source"] == "client"


def test_other_provider_cannot_edit_delete_or_retract(
    authored_note: Note, make_user: Callable[..., User]
) -> None:
    other = client_of(make_user(Role.PROVIDER, username="other-provider"))
    for response in (
        other.patch(note_url(authored_note.pk), {"content": "mine now"}, format="json"),
        other.delete(note_url(authored_note.pk)),
        other.post(note_url(authored_note.pk, "retract"), {"reason": "x"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_author"
    assert Note.objects.filter(pk=authored_note.pk, status=NoteStatus.DRAFT).exists()


def test_put_is_not_allowed(author_client: APIClient, authored_note: Note) -> None:
    response = author_client.put(note_url(authored_note.pk), {"content": "x"}, format="json")
    assert response.status_code == 405


# --- Addenda -------------------------------------------------------------------------------


def test_addendum_to_signed_note_is_a_signable_note(
    author_client: APIClient,
    authored_note: Note,
    django_capture_on_commit_callbacks: Any,
    make_user: Callable[..., User],
) -> None:
    later = timezone.now().isoformat()
    draft = author_client.post(
        note_url(authored_note.pk, "addenda"), {"taken_at": later, "content": "x"}, format="json"
    )
    assert draft.status_code == 409
    assert draft.json()["code"] == "note_not_signed"

    assert sign(author_client, authored_note).status_code == 200
    colleague = client_of(make_user(Role.PROVIDER, username="colleague"))
    with django_capture_on_commit_callbacks(execute=True):
        response = colleague.post(
            note_url(authored_note.pk, "addenda"),
            {"taken_at": later, "content": "Addendum: K 3.3 this morning; KCl 20 mEq PO once."},
            format="json",
        )
    assert response.status_code == 201, response.json()
    addendum = response.json()
    assert addendum["parent_id"] == str(authored_note.pk)
    assert addendum["status"] == "draft"
    assert response["Location"].endswith(addendum["id"])

    parent = author_client.get(note_url(authored_note.pk)).json()
    assert [a["id"] for a in parent["addenda"]] == [addendum["id"]]
    assert parent["content"] == SOAP_NOTE

    assert sign(colleague, addendum["id"]).status_code == 200
    nested = colleague.post(
        note_url(addendum["id"], "addenda"), {"taken_at": later, "content": "x"}, format="json"
    )
    assert nested.status_code == 409
    assert nested.json()["code"] == "note_is_addendum"


def test_addendum_cannot_predate_its_note(author_client: APIClient, authored_note: Note) -> None:
    assert sign(author_client, authored_note).status_code == 200
    before = (authored_note.taken_at - timedelta(hours=1)).isoformat()
    response = author_client.post(
        note_url(authored_note.pk, "addenda"), {"taken_at": before, "content": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "before_parent"


# --- Retraction ----------------------------------------------------------------------------


def test_retract_marks_entered_in_error_and_keeps_the_note(
    author_client: UserClient, authored_note: Note
) -> None:
    assert sign(author_client, authored_note).status_code == 200
    response = author_client.post(
        note_url(authored_note.pk, "retract"), {"reason": "Wrong patient."}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "entered_in_error"
    assert body["retraction"]["reason"] == "Wrong patient."
    assert body["retraction"]["by_id"] == author_client.user.pk
    assert body["content"] == SOAP_NOTE

    again = author_client.post(
        note_url(authored_note.pk, "retract"), {"reason": "again"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "note_retracted"
    for response in (
        sign(author_client, authored_note, meaning="review"),
        author_client.post(
            note_url(authored_note.pk, "addenda"),
            {"taken_at": timezone.now().isoformat(), "content": "x"},
            format="json",
        ),
        author_client.delete(note_url(authored_note.pk)),
        author_client.post(note_url(authored_note.pk, "reprocess")),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "note_retracted"


def test_retract_needs_a_reason(author_client: APIClient, authored_note: Note) -> None:
    response = author_client.post(note_url(authored_note.pk, "retract"), {}, format="json")
    assert response.status_code == 400
    response = author_client.post(
        note_url(authored_note.pk, "retract"), {"reason": "   "}, format="json"
    )
    assert response.status_code == 400


def test_admin_may_retract_anyones_note(admin_client_api: APIClient, authored_note: Note) -> None:
    response = admin_client_api.post(
        note_url(authored_note.pk, "retract"), {"reason": "Duplicate."}, format="json"
    )
    assert response.status_code == 200


# --- Deletion ------------------------------------------------------------------------------


def test_author_deletes_draft_and_its_file(
    provider_client: APIClient,
    patient: Patient,
    post_note: Any,
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, note = post_note(
        provider_client,
        patient,
        taken_at=timezone.now().isoformat(),
        file=upload("n.txt", b"BP 120/80", "text/plain"),
    )
    assert len(stored_files(media_root)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client.delete(note_url(note["id"]))
    assert response.status_code == 204
    assert not Note.objects.filter(pk=note["id"]).exists()
    assert stored_files(media_root) == []


def test_admin_deletes_anyones_draft(admin_client_api: APIClient, authored_note: Note) -> None:
    assert admin_client_api.delete(note_url(authored_note.pk)).status_code == 204


def test_viewer_cannot_delete(viewer_client: APIClient, authored_note: Note) -> None:
    assert viewer_client.delete(note_url(authored_note.pk)).status_code == 403


def test_patient_with_notes_cannot_be_deleted(
    admin_client_api: APIClient, authored_note: Note
) -> None:
    response = admin_client_api.delete(f"/api/v1/patients/{authored_note.patient_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == "has_dependents"
    assert response.json()["dependents"] == {"notes": 1}
    assert "(1 note)" in response.json()["detail"]


# --- The processing task -------------------------------------------------------------------


def test_processing_twice_is_harmless(authored_note: Note) -> None:
    before = Note.objects.get(pk=authored_note.pk)
    again = note_process(note_id=authored_note.pk)
    assert again is not None
    assert again.updated_at == before.updated_at
    assert again.structured_data == before.structured_data
    assert note_process(note_id="5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11") is None


def test_task_reads_a_pending_note(authored_note: Note) -> None:
    from notes.tasks import process_note

    Note.objects.filter(pk=authored_note.pk).update(
        extraction_status=ExtractionStatus.PENDING, structured_data={}
    )
    process_note.delay(str(authored_note.pk))  # eager in tests: runs here
    authored_note.refresh_from_db()
    assert authored_note.extraction_status == ExtractionStatus.DONE
    assert authored_note.structured_data["vitals"]["heart_rate"]["value"] == 92


def test_missing_file_fails_with_a_reason_and_reprocess_retries(
    provider_client: APIClient,
    patient: Patient,
    post_note: Any,
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from notes.tests.samples import text_pdf

    raw = text_pdf("BP 120/80")
    with django_capture_on_commit_callbacks(execute=False):
        response = provider_client.post(
            f"/api/v1/patients/{patient.pk}/notes/",
            {
                "taken_at": timezone.now().isoformat(),
                "file": upload("n.pdf", raw, "application/pdf"),
            },
            format="multipart",
        )
    note_id = response.json()["id"]
    (stored,) = stored_files(media_root)
    stored.rename(stored.with_suffix(".moved"))
    note_process(note_id=note_id)
    failed = provider_client.get(note_url(note_id)).json()
    assert failed["extraction_status"] == "failed"
    assert "try reprocessing" in failed["extraction_error"]

    stored.with_suffix(".moved").rename(stored)
    with django_capture_on_commit_callbacks(execute=True):
        assert provider_client.post(note_url(note_id, "reprocess")).status_code == 202
    done = provider_client.get(note_url(note_id)).json()
    assert done["extraction_status"] == "done"
    assert done["extraction_error"] == ""
