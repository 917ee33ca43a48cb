"""Reading notes: list, filters, ordering, query counts, download, clinical data, roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from audit.chain import QUERIES_PER_EVENT
from core.permissions import Role
from core.tests.clients import UserClient
from notes.models import Note
from notes.services import note_add_addendum, note_retract, note_sign
from notes.tests.factories import make_note, make_patient, provider_user
from notes.tests.helpers import note_url, notes_url, upload
from patients.models import Patient

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> Any:
    return timezone.now() - timedelta(**delta)


# --- List, filters, ordering ---------------------------------------------------------------


def test_list_is_the_patients_notes_newest_first(
    viewer_client: APIClient, patient: Patient
) -> None:
    old = make_note(patient=patient, taken_at=ago(days=3), content="Progress note. HR 70.")
    new = make_note(patient=patient, taken_at=ago(hours=1), content="Progress note. HR 80.")
    make_note(patient=make_patient(), content="Someone else's note.")
    body = viewer_client.get(notes_url(patient)).json()
    assert body["count"] == 2
    assert [n["id"] for n in body["results"]] == [str(new.pk), str(old.pk)]
    ascending = viewer_client.get(notes_url(patient), {"ordering": "taken_at"}).json()
    assert [n["id"] for n in ascending["results"]] == [str(old.pk), str(new.pk)]


def test_list_filters(viewer_client: APIClient, patient: Patient) -> None:
    author = provider_user()
    consult = make_note(
        patient=patient, note_type="consult", taken_at=ago(days=5), content="Consult. HR 70."
    )
    progress = make_note(patient=patient, taken_at=ago(days=1), content="Progress. HR 70.")
    note_retract(note=consult, actor=author, reason="Wrong chart.")

    def ids(**params: str) -> list[str]:
        response = viewer_client.get(notes_url(patient), params)
        assert response.status_code == 200, response.json()
        return [n["id"] for n in response.json()["results"]]

    assert ids(note_type="consult") == [str(consult.pk)]
    assert ids(status="entered_in_error") == [str(consult.pk)]
    assert ids(status="draft") == [str(progress.pk)]
    assert ids(taken_after=ago(days=2).isoformat()) == [str(progress.pk)]
    assert ids(taken_before=ago(days=2).isoformat()) == [str(consult.pk)]


@pytest.mark.parametrize(
    "params",
    [
        {"note_type": "radiology"},
        {"status": "deleted"},
        {"taken_after": "2026-01-01T10:00:00"},
        {"ordering": "content"},
    ],
)
def test_bad_list_parameters_are_400(
    viewer_client: APIClient, patient: Patient, params: dict[str, str]
) -> None:
    assert viewer_client.get(notes_url(patient), params).status_code == 400


def test_list_of_unknown_patient_is_404(viewer_client: APIClient, db: None) -> None:
    url = "/api/v1/patients/5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11/notes/"
    assert viewer_client.get(url).status_code == 404


def _fill(patient: Patient, count: int) -> None:
    author = provider_user()
    for index in range(count):
        note = make_note(patient=patient, author=author, taken_at=ago(days=10, hours=index))
        if index % 2 == 0:
            note_sign(note=note, actor=author, password="pw-for-tests-1", meaning="authorship")
            note_add_addendum(
                parent=note, actor=author, taken_at=ago(days=1), content="Addendum. HR 60."
            )


def test_list_query_count_does_not_grow_with_the_page(
    viewer_client: APIClient, patient: Patient
) -> None:
    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as context:
            response = viewer_client.get(notes_url(patient), {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, Note.objects.count())
        return len(context.captured_queries)

    _fill(patient, 12)
    small = queries(2)
    large = queries(10)  # both with a next page, so both count
    assert large == small
    assert large <= 9 + QUERIES_PER_EVENT
    assert queries(50) == large - 1  # one page holds all: no count statement


# --- Detail --------------------------------------------------------------------------------


def test_detail_shows_content_sections_data_file_status_signatures(
    viewer_client: APIClient, patient: Patient
) -> None:
    note = make_note(patient=patient)
    body = viewer_client.get(note_url(note.pk)).json()
    assert body["id"] == str(note.pk)
    assert body["patient_id"] == str(patient.pk)
    assert body["author_name"] == "Paula Provider"
    for key in ("content", "sections", "structured_data", "file", "status", "signatures"):
        assert key in body
    assert viewer_client.get(note_url("5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11")).status_code == 404
    assert viewer_client.get("/api/v1/notes/not-a-uuid/").status_code == 404


# --- Protected download --------------------------------------------------------------------


def test_download_streams_the_original_as_an_attachment(
    provider_client: APIClient, viewer_client: APIClient, patient: Patient, post_note: Any
) -> None:
    from notes.tests.samples import text_pdf

    raw = text_pdf("BP 120/80")
    _, note = post_note(
        provider_client,
        patient,
        taken_at=ago(hours=1).isoformat(),
        file=upload("Clinic visit.pdf", raw, "application/pdf"),
    )
    response = viewer_client.get(note_url(note["id"], "file"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == raw  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Clinic visit.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    # Whatever the client says it accepts, it gets the file (and JSON errors otherwise).
    pdf = viewer_client.get(note_url(note["id"], "file"), HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200


def test_download_needs_credentials_and_a_file(
    api_client: APIClient, viewer_client: APIClient, patient: Patient
) -> None:
    note = make_note(patient=patient)
    anonymous = api_client.get(note_url(note.pk, "file"))
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    typed = viewer_client.get(note_url(note.pk, "file"))
    assert typed.status_code == 404
    assert typed.json()["code"] == "not_found"


def test_files_are_not_under_a_public_url(settings: Any) -> None:
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve(f"/{settings.MEDIA_URL.strip('/')}/notes/anything".replace("//", "/"))


# --- Clinical data -------------------------------------------------------------------------


def test_clinical_data_aggregates_current_notes(viewer_client: APIClient, patient: Patient) -> None:
    author = provider_user()
    first = make_note(
        patient=patient,
        author=author,
        taken_at=ago(days=3),
        content=(
            "Admission H&P. BP 150/95, HR 100, T 38.4C, Wt 80 kg.\n"
            "Meds: metoprolol 25 mg PO BID, lisinopril 10 mg PO daily.\n"
            "Allergies: penicillin (hives).\n"
            "Assessment:\n1. Community-acquired pneumonia.\n2. Hypertension."
        ),
    )
    second = make_note(
        patient=patient,
        author=author,
        taken_at=ago(days=1),
        content=(
            "Progress note. BP 128/80, HR 78.\n"
            "Lisinopril stopped for cough. Continue metoprolol 50 mg PO BID.\n"
            "Assessment: pneumonia improving."
        ),
    )
    retracted = make_note(
        patient=patient,
        author=author,
        taken_at=ago(hours=2),
        content="Progress note. BP 90/50. Allergies: sulfa (rash). Assessment: sepsis.",
    )
    note_retract(note=retracted, actor=author, reason="Wrong patient.")

    response = viewer_client.get(f"/api/v1/patients/{patient.pk}/clinical-data/")
    assert response.status_code == 200, response.json()
    data = response.json()
    vitals = data["vitals"]
    assert vitals["systolic_bp"]["value"] == 128
    assert isinstance(vitals["systolic_bp"]["value"], int)
    assert vitals["systolic_bp"]["note_id"] == str(second.pk)
    assert vitals["temperature_c"] == {
        "value": 38.4,
        "unit": "°C",
        "at": first.taken_at.isoformat().replace("+00:00", "Z"),
        "note_id": str(first.pk),
    }
    meds = {m["name"]: m for m in data["medications"]}
    assert set(meds) == {"metoprolol"}
    assert meds["metoprolol"]["dose"] == "50 mg"
    assert meds["metoprolol"]["note_ids"] == [str(first.pk), str(second.pk)]
    assert [a["substance"] for a in data["allergies"]] == ["penicillin"]
    assert data["no_known_allergies"] is False
    diagnoses = {d["text"].lower() for d in data["diagnoses"]}
    assert "hypertension" in diagnoses and "sepsis" not in diagnoses
    assert {d["certainty"] for d in data["diagnoses"]} == {"confirmed"}
    assert data["held_medications"] == [] and data["past_diagnoses"] == []
    assert str(retracted.pk) not in data["source_note_ids"]


def test_clinical_data_nkda_and_addenda_of_retracted_notes(
    viewer_client: APIClient, patient: Patient
) -> None:
    author = provider_user()
    note = make_note(patient=patient, author=author, content="Progress note. NKDA. HR 70.")
    note_sign(note=note, actor=author, password="pw-for-tests-1", meaning="authorship")
    addendum = note_add_addendum(
        parent=note, actor=author, taken_at=timezone.now(), content="Addendum. HR 120."
    )
    from notes.processing import note_process

    note_process(note_id=addendum.pk)
    data = viewer_client.get(f"/api/v1/patients/{patient.pk}/clinical-data/").json()
    assert data["no_known_allergies"] is True
    assert data["no_known_allergies_note_ids"] == [str(note.pk)]
    assert data["vitals"]["heart_rate"]["value"] == 120

    note_retract(note=note, actor=author, reason="Wrong patient.")
    data = viewer_client.get(f"/api/v1/patients/{patient.pk}/clinical-data/").json()
    assert data["vitals"] == {}
    assert data["source_note_ids"] == []


def test_clinical_data_query_count_is_constant(viewer_client: APIClient, patient: Patient) -> None:
    url = f"/api/v1/patients/{patient.pk}/clinical-data/"
    make_note(patient=patient)
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(url)
    for _ in range(6):
        make_note(patient=patient)
    with CaptureQueriesContext(connection) as many:
        viewer_client.get(url)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_clinical_data_of_unknown_patient_is_404(viewer_client: APIClient, db: None) -> None:
    url = "/api/v1/patients/5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11/clinical-data/"
    assert viewer_client.get(url).status_code == 404


# --- Role matrix ---------------------------------------------------------------------------

READS = ["list", "detail", "clinical-data"]
WRITES = ["create", "patch", "sign", "addenda", "retract", "reprocess", "delete"]


def _call(client: APIClient, action: str, patient: Patient, note: Note, signed: Note) -> int:
    now = timezone.now().isoformat()
    calls: dict[str, Callable[[], Any]] = {
        "list": lambda: client.get(notes_url(patient)),
        "detail": lambda: client.get(note_url(note.pk)),
        "clinical-data": lambda: client.get(f"/api/v1/patients/{patient.pk}/clinical-data/"),
        "create": lambda: client.post(
            notes_url(patient), {"taken_at": now, "content": "HR 70"}, format="json"
        ),
        "patch": lambda: client.patch(note_url(note.pk), {"content": "HR 71"}, format="json"),
        "sign": lambda: client.post(
            note_url(note.pk, "sign"),
            {"password": "pw-for-tests-1", "meaning": "review"},
            format="json",
        ),
        "addenda": lambda: client.post(
            note_url(signed.pk, "addenda"), {"taken_at": now, "content": "HR 72"}, format="json"
        ),
        "retract": lambda: client.post(
            note_url(note.pk, "retract"), {"reason": "test"}, format="json"
        ),
        "reprocess": lambda: client.post(note_url(note.pk, "reprocess")),
        "delete": lambda: client.delete(note_url(note.pk)),
    }
    return int(calls[action]().status_code)


def _client(role: Role, client_for: Callable[[Role], UserClient]) -> tuple[UserClient, Any]:
    if role != Role.NONE:
        client = client_for(role)
        return client, client.user
    user = User.objects.create_user("no-role", password="pw-for-tests-1")
    token, _ = token_issue(user=user)
    return UserClient(user, token), user


@pytest.mark.parametrize("action", READS + WRITES)
@pytest.mark.parametrize("role", [None, Role.NONE, Role.VIEWER, Role.PROVIDER, Role.ADMIN])
def test_role_matrix(
    client_for: Callable[[Role], UserClient], patient: Patient, role: Role | None, action: str
) -> None:
    if role is None:
        client, user = APIClient(), None
    else:
        client, user = _client(role, client_for)
    # Providers and Admins act on their own notes here; "not the author" is tested apart.
    author = user if role is not None and role >= Role.PROVIDER else provider_user()
    note = make_note(patient=patient, author=author)
    signed = make_note(patient=patient, author=author)
    assert author is not None
    note_sign(note=signed, actor=author, password="pw-for-tests-1", meaning="authorship")
    status = _call(client, action, patient, note, signed)
    if role is None:
        assert status == 401
    elif role == Role.NONE:
        assert status == 403
    elif role == Role.VIEWER:
        assert status == (200 if action in READS else 403)
    else:
        assert status in (200, 201, 202, 204), (role, action, status)


def test_format_query_parameter_is_not_an_override(provider_client: APIClient) -> None:
    """Negotiation is by Accept only: ?format= neither changes the renderer nor the error."""
    from notes.tests.factories import make_note

    note = make_note()
    response = provider_client.get(f"/api/v1/notes/{note.pk}/file/?format=file")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_clinical_data_groups_a_condition_under_its_newest_wording(
    viewer_client: APIClient, patient: Patient
) -> None:
    author = provider_user()
    first = make_note(
        patient=patient, author=author, taken_at=ago(days=3), content="Assessment: Hypertension."
    )
    second = make_note(
        patient=patient,
        author=author,
        taken_at=ago(days=1),
        content="Assessment: Hypertension, controlled. Asthma.",
    )
    data = viewer_client.get(f"/api/v1/patients/{patient.pk}/clinical-data/").json()
    by_text = {d["text"]: d for d in data["diagnoses"]}
    assert set(by_text) == {"Hypertension, controlled", "Asthma"}
    assert by_text["Hypertension, controlled"]["note_ids"] == [str(first.pk), str(second.pk)]
