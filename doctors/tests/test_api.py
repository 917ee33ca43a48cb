from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from appointments.models import AppointmentStatus
from appointments.services import appointment_book
from appointments.tests.factories import AppointmentFactory, PatientFactory
from appointments.tests.helpers import at, future_weekday
from core.actors import system_actor
from core.permissions import Role
from doctors.models import Doctor
from doctors.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/doctors/"
NEW = {
    "full_name": "Dr. Amara Okafor",
    "specialty": "Cardiology",
    "email": "Amara.Okafor@Clinic.example",
    "phone": "+1 415 555 0101",
}


def test_create_normalises_email_and_phone(admin_client_api):
    response = admin_client_api.post(URL, NEW, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "amara.okafor@clinic.example"
    assert body["phone"] == "+14155550101"
    assert body["is_active"] is True
    assert Doctor.objects.get().email == "amara.okafor@clinic.example"


def test_duplicate_email_is_a_409_case_insensitively(admin_client_api):
    DoctorFactory.create(email="amara.okafor@clinic.example")
    response = admin_client_api.post(URL, NEW, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_email"
    other = DoctorFactory.create()
    clash = admin_client_api.patch(
        f"{URL}{other.pk}/", {"email": "AMARA.okafor@clinic.example"}, format="json"
    )
    assert clash.status_code == 409


def test_invalid_input_is_a_400(admin_client_api):
    response = admin_client_api.post(URL, {**NEW, "phone": "12", "is_active": False}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"is_active"}
    response = admin_client_api.post(URL, {**NEW, "phone": "12"}, format="json")
    assert response.json()["errors"][0]["field"] == "phone"


def test_user_account_link_is_one_to_one(admin_client_api, make_user):
    user = make_user(Role.PROVIDER, username="dr-okafor")
    first = admin_client_api.post(URL, {**NEW, "user_id": user.pk}, format="json")
    assert first.status_code == 201
    assert first.json()["user_id"] == user.pk
    second = admin_client_api.post(
        URL, {**NEW, "email": "x@clinic.example", "user_id": user.pk}, format="json"
    )
    assert second.status_code == 409
    assert second.json()["code"] == "user_already_linked"


def test_list_filters_search_and_ordering(viewer_client):
    DoctorFactory.create(full_name="Dr. Ana Lopez", specialty="Cardiology")
    DoctorFactory.create(full_name="Dr. Ben Cole", specialty="Dermatology", is_active=False)
    DoctorFactory.create(full_name="Dr. Cara Diaz", specialty="cardiology")

    def names(**params):
        response = viewer_client.get(URL, params)
        assert response.status_code == 200
        return [d["full_name"] for d in response.json()["results"]]

    assert names(is_active="false") == ["Dr. Ben Cole"]
    assert names(specialty="Cardiology") == ["Dr. Ana Lopez", "Dr. Cara Diaz"]
    assert names(search="derma") == ["Dr. Ben Cole"]
    assert names(search="cara cardio") == ["Dr. Cara Diaz"]
    assert names(ordering="-full_name")[0] == "Dr. Cara Diaz"


def test_toggle_status_reports_future_appointments_without_cancelling(admin_client_api):
    doctor = DoctorFactory.create()
    day = future_weekday()
    future = appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 9),
        duration_minutes=30,
    )
    AppointmentFactory.create(doctor=doctor, start_time=timezone.now() - timedelta(days=2))
    AppointmentFactory.create(
        doctor=doctor,
        start_time=at(day, 11),
        status=AppointmentStatus.CANCELLED,
        cancelled_at=timezone.now(),
    )
    response = admin_client_api.post(f"{URL}{doctor.pk}/toggle-status/")
    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is False
    assert [a["id"] for a in body["future_appointments"]] == [str(future.pk)]
    future.refresh_from_db()
    assert future.status == AppointmentStatus.SCHEDULED
    again = admin_client_api.put(f"{URL}{doctor.pk}/toggle-status")
    assert again.json()["is_active"] is True
    assert again.json()["future_appointments"] == []


def test_delete_protection(admin_client_api):
    busy = AppointmentFactory.create(start_time=at(future_weekday(), 9)).doctor
    AppointmentFactory.create(doctor=busy, start_time=at(future_weekday(), 11))
    response = admin_client_api.delete(f"{URL}{busy.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "has_dependents"
    assert response.json()["dependents"] == {"appointments": 2}
    assert "2 appointments" in response.json()["detail"]
    free = DoctorFactory.create()
    assert admin_client_api.delete(f"{URL}{free.pk}/").status_code == 204
    assert list(Doctor.objects.all()) == [busy]


def test_unknown_doctor_is_a_404(viewer_client):
    assert viewer_client.get(f"{URL}{uuid.uuid4()}/").status_code == 404
    assert viewer_client.get(f"{URL}not-a-uuid/").status_code == 404


# --- Availability --------------------------------------------------------------------------
def slots(client, doctor, **params):
    response = client.get(f"{URL}{doctor.pk}/availability/", params)
    assert response.status_code == 200, response.json()
    return [datetime.fromisoformat(s) for s in response.json()["slots"]]


def test_availability_is_the_grid_inside_opening_hours_minus_bookings(viewer_client):
    doctor = DoctorFactory.create()
    day = future_weekday()
    all_free = slots(viewer_client, doctor, date=str(day), duration=30)
    assert all_free[0] == at(day, 8)
    assert all_free[-1] == at(day, 17, 30)
    assert len(all_free) == 39  # 08:00 ... 17:30 every 15 minutes
    appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 9),
        duration_minutes=60,
    )
    free = slots(viewer_client, doctor, date=str(day), duration=30)
    taken = {at(day, 8, 45), at(day, 9), at(day, 9, 15), at(day, 9, 30), at(day, 9, 45)}
    assert set(all_free) - set(free) == taken
    assert at(day, 10) in free  # back-to-back is free
    # Three hours fit only after the booking: 10:00 ... 15:00.
    assert len(slots(viewer_client, doctor, date=str(day), duration=180)) == 21


def test_availability_on_a_closed_day_today_and_for_an_inactive_doctor(viewer_client):
    doctor = DoctorFactory.create()
    saturday = future_weekday()
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    assert slots(viewer_client, doctor, date=str(saturday)) == []
    today = timezone.now().date()
    assert all(s > timezone.now() for s in slots(viewer_client, doctor, date=str(today)))
    yesterday = today - timedelta(days=1)
    assert slots(viewer_client, doctor, date=str(yesterday)) == []
    inactive = DoctorFactory.create(is_active=False)
    assert slots(viewer_client, inactive, date=str(future_weekday())) == []


@override_settings(
    CLINIC_TIME_ZONE="Europe/Berlin",
    CLINIC_OPENING_HOURS="mon-fri 09:00-12:00,13:00-14:00",
    SCHEDULING_SLOT_MINUTES=30,
)
def test_availability_follows_the_configured_hours_grid_and_zone(viewer_client):
    doctor = DoctorFactory.create()
    day = future_weekday()
    response = viewer_client.get(
        f"{URL}{doctor.pk}/availability/", {"date": str(day), "duration": 60}
    )
    body = response.json()
    assert (body["slot_minutes"], body["time_zone"], body["duration_minutes"]) == (
        30,
        "Europe/Berlin",
        60,
    )
    free = [datetime.fromisoformat(s) for s in body["slots"]]
    assert free == [
        at(day, 9),
        at(day, 9, 30),
        at(day, 10),
        at(day, 10, 30),
        at(day, 11),
        at(day, 13),
    ]
    assert body["slots"][0].endswith(("+01:00", "+02:00"))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date": "2026-02-30"},
        {"date": "tomorrow"},
        {"date": "2030-01-07", "duration": 14},
        {"date": "2030-01-07", "duration": 181},
        {"date": "2030-01-07", "duration": "x"},
        {"date": "9999-12-31"},
        {"date": "2030-01-07", "extra": "1"},
    ],
)
def test_availability_rejects_bad_query_parameters(viewer_client, params):
    doctor = DoctorFactory.create()
    response = viewer_client.get(f"{URL}{doctor.pk}/availability/", params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


# --- Roles -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("get", "", None, (200, 200, 200)),
        ("get", "{id}/", None, (200, 200, 200)),
        ("get", "{id}/availability/?date=2030-01-07", None, (200, 200, 200)),
        ("post", "", NEW, (403, 403, 201)),
        ("put", "{id}/", {**NEW, "email": "put@clinic.example"}, (403, 403, 200)),
        ("patch", "{id}/", {"specialty": "Neurology"}, (403, 403, 200)),
        ("post", "{id}/toggle-status/", None, (403, 403, 200)),
        ("put", "{id}/toggle-status/", None, (403, 403, 200)),
        ("delete", "{id}/", None, (403, 403, 204)),
    ],
)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER, Role.ADMIN])
def test_role_matrix(client_for, method, path, body, expected, role):
    doctor = DoctorFactory.create()
    client = client_for(role)
    response = getattr(client, method)(URL + path.format(id=doctor.pk), body, format="json")
    index = [Role.VIEWER, Role.PROVIDER, Role.ADMIN].index(role)
    assert response.status_code == expected[index], response.content
