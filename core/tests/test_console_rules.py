"""One write path: the console's forms and actions call the API's services, and each rule
shows the API's own message. One test per rule, as the seeded Provider or Admin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from core.actors import system_actor
from core.tests.console_helpers import build_clinic, login, next_weekday_at
from doctors.services import doctor_toggle_status
from interactions.models import Interaction
from notes.services import note_sign
from patients.models import Patient

pytestmark = pytest.mark.django_db


def _book(client, clinic, *, start, doctor=None, patient=None):
    local = timezone.localtime(start)
    return client.post(
        reverse("admin:appointments_appointment_add"),
        {
            "patient": str((patient or clinic.patient).pk),
            "doctor": str((doctor or clinic.doctor).pk),
            "start_time_0": local.strftime("%Y-%m-%d"),
            "start_time_1": local.strftime("%H:%M"),
            "duration_minutes": "30",
            "reason": "Follow-up",
        },
    )


def test_double_booking_shows_the_api_message_the_clash_and_free_slots() -> None:
    from patients.tests.factories import PatientFactory

    clinic = build_clinic()
    client = login("provider")
    other_patient = PatientFactory(first_name="Omar", last_name="Khan")
    response = _book(
        client,
        clinic,
        start=clinic.appointment.start_time + timedelta(minutes=15),
        patient=other_patient,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "The doctor already has an appointment that overlaps this time." in text
    assert "It clashes with" in text and "Maria Hadad" in text
    # clinic-local wording, not raw ISO, and the next free times as booking links
    assert clinic.appointment.start_time.isoformat() not in text
    assert "Next free times:" in text
    assert reverse("admin:appointments_appointment_add") + "?start_time_0=" in text
    assert Appointment.objects.count() == 1


def test_a_free_slot_books_through_the_service() -> None:
    clinic = build_clinic()
    client = login("provider")
    response = _book(client, clinic, start=next_weekday_at(14))
    assert response.status_code == 302
    booked = Appointment.objects.exclude(pk=clinic.appointment.pk).get()
    assert booked.created_by == clinic.users["provider"]
    assert booked.end_time == booked.start_time + timedelta(minutes=30)


def test_booking_outside_opening_hours_warns_but_books() -> None:
    clinic = build_clinic()
    client = login("provider")
    response = _book(client, clinic, start=next_weekday_at(20))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "outside the clinic&#x27;s opening hours" in page.content.decode()
    assert Appointment.objects.count() == 2


def test_inactive_doctor_is_not_offered_and_cannot_be_booked() -> None:
    clinic = build_clinic()
    doctor_toggle_status(actor=system_actor(), doctor=clinic.doctor)
    client = login("provider")
    picker = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "appointments",
            "model_name": "appointment",
            "field_name": "doctor",
            "term": "Ortiz",
        },
    )
    assert picker.status_code == 200
    assert picker.json()["results"] == []
    response = _book(client, clinic, start=next_weekday_at(15))
    assert "The doctor is inactive and cannot be booked." in response.content.decode()


def test_patient_with_records_is_not_deleted_and_the_api_message_shows() -> None:
    clinic = build_clinic()
    client = login("admin")
    url = reverse("admin:patients_patient_delete", args=[clinic.patient.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert Patient.objects.filter(pk=clinic.patient.pk).exists()
    # The service's (the API's) wording, naming what depends on the patient.
    assert "The patient cannot be deleted while other records refer to it (" in (
        response.content.decode()
    )


def test_interactions_are_immutable_and_corrections_follow_the_service_rules() -> None:
    clinic = build_clinic()
    client = login("provider")
    change = reverse("admin:interactions_interaction_change", args=[clinic.interaction.pk])
    assert b'name="notes"' not in client.get(change).content
    assert client.post(change, {"notes": "rewritten"}).status_code == 403
    changelist = reverse("admin:interactions_interaction_changelist")
    retract = {
        "action": "retract",
        helpers.ACTION_CHECKBOX_NAME: [str(clinic.interaction.pk)],
        "apply": "1",
        "reason": "Wrong patient",
    }
    client.post(changelist, retract)
    again = client.post(changelist, retract, follow=True)
    assert "Only a current entry can be retracted" in again.content.decode()
    assert Interaction.objects.get(pk=clinic.interaction.pk).retraction_reason == "Wrong patient"


def test_signed_note_is_locked_in_the_console() -> None:
    clinic = build_clinic()
    note_sign(
        note=clinic.note,
        actor=clinic.users["provider"],
        password="provider-demo-pass",
        meaning="authorship",
    )
    client = login("provider")
    url = reverse("admin:notes_note_change", args=[clinic.note.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="content"' not in page.content
    assert client.post(url, {"content": "changed"}).status_code == 403


def test_provider_records_an_interaction_and_a_note_from_the_chart() -> None:
    clinic = build_clinic()
    client = login("provider")
    chart = reverse("admin:patients_patient_change", args=[clinic.patient.pk])
    page = client.get(chart).content.decode()
    assert "Record an interaction" in page and "Add a note" in page
    response = client.post(
        reverse("admin:interactions_interaction_add"),
        {"patient": str(clinic.patient.pk), "outcome": "critical", "notes": "Chest pain."},
    )
    assert response.status_code == 302 and response["Location"] == chart
    clinic.patient.refresh_from_db()
    assert clinic.patient.latest_outcome.code == "critical"
    now = timezone.localtime()
    response = client.post(
        reverse("admin:notes_note_add"),
        {
            "patient": str(clinic.patient.pk),
            "taken_at_0": now.strftime("%Y-%m-%d"),
            "taken_at_1": now.strftime("%H:%M"),
            "content": "S: cough. O: T 38.2 C. A: bronchitis. P: rest.",
        },
    )
    assert response.status_code == 302
    assert clinic.patient.notes.count() == 2
    blank = client.post(
        reverse("admin:notes_note_add"),
        {
            "patient": str(clinic.patient.pk),
            "taken_at_0": now.strftime("%Y-%m-%d"),
            "taken_at_1": "09:00",
        },
    )
    assert "Type the note or choose a file." in blank.content.decode()


def test_inactive_outcome_is_refused_with_the_api_message() -> None:
    clinic = build_clinic()
    clinic.outcome.is_active = False
    clinic.outcome.save()
    client = login("provider")
    response = client.post(
        reverse("admin:interactions_interaction_add"),
        {"patient": str(clinic.patient.pk), "outcome": clinic.outcome.pk},
    )
    assert response.status_code == 200
    assert Interaction.objects.count() == 1


def test_cancel_action_asks_for_a_reason_and_uses_the_service() -> None:
    clinic = build_clinic()
    client = login("provider")
    changelist = reverse("admin:appointments_appointment_changelist")
    data = {"action": "cancel", helpers.ACTION_CHECKBOX_NAME: [str(clinic.appointment.pk)]}
    ask = client.post(changelist, data)
    assert b"Reason for cancelling" in ask.content
    client.post(changelist, {**data, "apply": "1", "reason": "Patient is travelling"})
    clinic.appointment.refresh_from_db()
    assert clinic.appointment.status == AppointmentStatus.CANCELLED
    assert clinic.appointment.cancellation_reason == "Patient is travelling"


def test_registration_warns_of_a_possible_duplicate_but_allows_it() -> None:
    clinic = build_clinic()
    client = login("provider")
    data = {
        "first_name": "Maria",
        "last_name": "Hadad",
        "date_of_birth": clinic.patient.date_of_birth.isoformat(),
        "gender": "female",
    }
    warned = client.post(reverse("admin:patients_patient_add"), data)
    assert warned.status_code == 200
    text = warned.content.decode()
    assert "Possible duplicate" in text
    assert reverse("admin:patients_patient_change", args=[clinic.patient.pk]) in text
    registered = client.post(
        reverse("admin:patients_patient_add"), {**data, "register_anyway": "on"}
    )
    assert registered.status_code == 302
    assert Patient.objects.filter(last_name="Hadad").count() == 2


def test_patient_search_is_the_api_search() -> None:
    clinic = build_clinic()
    client = login("viewer")
    page = client.get(reverse("admin:patients_patient_changelist"), {"q": "hadad maria"})
    assert clinic.patient.mrn.encode() in page.content
    picker = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "appointments",
            "model_name": "appointment",
            "field_name": "patient",
            "term": "Hadad",
        },
    )
    assert [r["id"] for r in picker.json()["results"]] == [str(clinic.patient.pk)]


def test_toggle_doctor_status_lists_the_affected_future_appointments() -> None:
    clinic = build_clinic()
    client = login("admin")
    response = client.post(
        reverse("admin:doctors_doctor_changelist"),
        {"action": "toggle_status", helpers.ACTION_CHECKBOX_NAME: [str(clinic.doctor.pk)]},
        follow=True,
    )
    text = response.content.decode()
    assert "Dr. Ana Ortiz is now inactive." in text
    assert "1 future appointment(s) of Dr. Ana Ortiz need another doctor" in text
    assert "Maria Hadad" in text
    clinic.doctor.refresh_from_db()
    assert not clinic.doctor.is_active


def test_provider_uploads_a_note_file_from_the_chart() -> None:
    clinic = build_clinic()
    client = login("provider")
    now = timezone.localtime()
    upload = SimpleUploadedFile(
        "visit.txt", b"S: sore throat. O: T 37.9 C. A: pharyngitis. P: fluids.", "text/plain"
    )
    response = client.post(
        reverse("admin:notes_note_add"),
        {
            "patient": str(clinic.patient.pk),
            "taken_at_0": now.strftime("%Y-%m-%d"),
            "taken_at_1": now.strftime("%H:%M"),
            "file": upload,
        },
    )
    assert response.status_code == 302
    note = clinic.patient.notes.exclude(pk=clinic.note.pk).get()
    assert note.file_name == "visit.txt"
    assert "pharyngitis" in note.content
    empty = client.post(
        reverse("admin:notes_note_add"),
        {
            "patient": str(clinic.patient.pk),
            "taken_at_0": now.strftime("%Y-%m-%d"),
            "taken_at_1": now.strftime("%H:%M"),
            "file": SimpleUploadedFile("blank.txt", b"   \n", "text/plain"),
        },
    )
    assert "The file contains no text." in empty.content.decode()


def test_a_role_admin_cannot_change_a_superuser() -> None:
    from django.contrib.auth.models import User

    build_clinic()
    root = User.objects.create_superuser("root", "root@clinic.example", "a-Long-passphrase-42")
    client = login("admin")
    assert client.get(reverse("admin:auth_user_change", args=[root.pk])).status_code == 200
    page = client.get(reverse("admin:auth_user_change", args=[root.pk])).content
    assert b'name="role"' not in page  # read-only
    assert client.get(reverse("admin:auth_user_password_change", args=[root.pk])).status_code == 403
    assert (
        client.post(reverse("admin:auth_user_delete", args=[root.pk]), {"post": "yes"}).status_code
        == 403
    )


def _api_detail(method: str, path: str, body: Mapping[str, object]) -> str:
    """What the API answers an Admin for the same request (its 409's wording)."""
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    from accounts.services import token_issue
    from core.tests.console_helpers import PASSWORDS

    assert "admin" in PASSWORDS
    token, _ = token_issue(user=User.objects.get(username="admin"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = getattr(api, method)(path, body, format="json")
    assert response.status_code == 409, response.json()
    return str(response.json()["detail"])


def test_duplicate_doctor_email_shows_the_api_message_and_writes_nothing() -> None:
    from doctors.models import Doctor

    clinic = build_clinic()
    client = login("admin")
    body = {"full_name": "Dr. Twin", "specialty": "GP", "email": clinic.doctor.email.upper()}
    response = client.post(reverse("admin:doctors_doctor_add"), {**body, "phone": ""})
    assert response.status_code == 200
    expected = _api_detail("post", "/api/v1/doctors/", body)
    assert expected == "A doctor with this email already exists."
    assert expected in response.content.decode()
    assert "Constraint" not in response.content.decode()
    assert not Doctor.objects.filter(full_name="Dr. Twin").exists()


def test_linking_an_account_to_a_second_doctor_shows_the_api_message() -> None:
    from doctors.tests.factories import DoctorFactory

    clinic = build_clinic()
    clinic.doctor.user = clinic.users["provider"]
    clinic.doctor.save()
    other = DoctorFactory.create(full_name="Dr. Other")
    client = login("admin")
    response = client.post(
        reverse("admin:doctors_doctor_change", args=[other.pk]),
        {
            "full_name": other.full_name,
            "specialty": other.specialty,
            "email": other.email,
            "phone": "",
            "user": str(clinic.users["provider"].pk),
        },
    )
    assert response.status_code == 200
    expected = _api_detail(
        "patch", f"/api/v1/doctors/{other.pk}/", {"user_id": clinic.users["provider"].pk}
    )
    assert expected in response.content.decode()
    other.refresh_from_db()
    assert other.user_id is None


def test_doctor_edits_save_through_the_service_as_the_admin() -> None:
    from django.apps import apps

    clinic = build_clinic()
    client = login("admin")
    response = client.post(
        reverse("admin:doctors_doctor_change", args=[clinic.doctor.pk]),
        {
            "full_name": "Dr. Ana Ortiz-Reyes",
            "specialty": clinic.doctor.specialty,
            "email": clinic.doctor.email,
            "phone": "",
        },
    )
    assert response.status_code == 302
    clinic.doctor.refresh_from_db()
    assert clinic.doctor.full_name == "Dr. Ana Ortiz-Reyes"
    history = apps.get_model("audit", "HistoricalDoctor").objects.filter(id=clinic.doctor.pk)
    assert history.latest("history_date").history_user == clinic.users["admin"]


def test_duplicate_outcome_code_shows_the_api_message_and_writes_nothing() -> None:
    from outcomes.models import Outcome

    clinic = build_clinic()
    client = login("admin")
    before = Outcome.objects.count()
    response = client.post(
        reverse("admin:outcomes_outcome_add"),
        {"code": " Monitor ", "label": "Again", "severity": 1, "sort_order": 5},
    )
    assert response.status_code == 200
    expected = _api_detail(
        "post", "/api/v1/outcomes/", {"code": "MONITOR", "label": "Again", "severity": 1}
    )
    assert expected == "An outcome with the code 'monitor' already exists."
    assert expected in response.content.decode().replace("&#x27;", "'")
    assert Outcome.objects.count() == before
    assert clinic.outcome.label == Outcome.objects.get(pk="monitor").label


def test_new_outcome_code_is_stored_as_the_api_stores_it() -> None:
    from outcomes.models import Outcome

    build_clinic()
    client = login("admin")
    response = client.post(
        reverse("admin:outcomes_outcome_add"),
        {"code": " Urgent-Care ", "label": "Urgent care", "severity": 2, "sort_order": 5},
    )
    assert response.status_code == 302
    assert Outcome.objects.get(pk="urgent-care").label == "Urgent care"
