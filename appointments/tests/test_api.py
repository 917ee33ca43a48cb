from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_book
from appointments.tests.factories import AppointmentFactory, PatientFactory
from appointments.tests.helpers import at, future_weekday
from core.actors import system_actor
from core.permissions import Role
from doctors.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"


def payload(day, hour=9, minute=0, **extra):
    body = {
        "patient_id": str(extra.pop("patient", None) or PatientFactory.create().pk),
        "doctor_id": str(extra.pop("doctor", None) or DoctorFactory.create().pk),
        "start_time": at(day, hour, minute).isoformat(),
        "duration_minutes": 30,
        "reason": "Check-up",
    }
    body.update(extra)
    return body


@pytest.fixture
def day():
    return future_weekday()


def test_book_returns_201_with_embedded_patient_and_doctor(provider_client, day):
    body = payload(day, start_time=at(day, 10).astimezone().isoformat())
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["patient_id"] == body["patient_id"]
    assert data["doctor_id"] == body["doctor_id"]
    assert set(data["patient"]) == {"id", "mrn", "first_name", "last_name"}
    assert set(data["doctor"]) == {"id", "full_name", "specialty"}
    assert data["status"] == "scheduled"
    assert datetime.fromisoformat(data["end_time"]) == at(day, 10, 30)
    assert data["created_by"] == provider_client.user.username
    assert Appointment.objects.get().created_by == provider_client.user


def test_naive_start_time_is_a_400(provider_client, day):
    body = payload(day, start_time=at(day, 9).replace(tzinfo=None).isoformat())
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("start_time", "naive")
    assert "UTC offset" in error["detail"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("minutes", "status"), [(14, 400), (15, 201), (180, 201), (181, 400)])
def test_duration_boundaries_over_http(provider_client, day, minutes, status):
    response = provider_client.post(URL, payload(day, duration_minutes=minutes), format="json")
    assert response.status_code == status
    if status == 400:
        assert response.json()["errors"][0]["field"] == "duration_minutes"


def test_start_in_the_past_is_a_400(provider_client):
    body = payload(future_weekday(), start_time=(timezone.now() - timedelta(hours=1)).isoformat())
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "start_time"


@pytest.mark.parametrize("field", ["patient_id", "doctor_id"])
def test_unknown_patient_or_doctor_is_a_400_naming_the_field(provider_client, day, field):
    response = provider_client.post(URL, payload(day, **{field: str(uuid.uuid4())}), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_malformed_id_is_a_400(provider_client, day):
    response = provider_client.post(URL, payload(day, doctor_id="not-a-uuid"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "doctor_id"


def test_unknown_and_read_only_fields_are_400(provider_client, day):
    response = provider_client.post(URL, payload(day, end_time="x"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "end_time",
        "code": "read_only",
        "detail": "This field is read-only.",
    }
    response = provider_client.post(URL, payload(day, colour="blue"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_field"


def test_inactive_doctor_is_a_409(provider_client, day):
    doctor = DoctorFactory.create(is_active=False)
    response = provider_client.post(URL, payload(day, doctor=doctor.pk), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "doctor_inactive"


def test_double_booking_is_a_409_with_context(provider_client, day):
    doctor = DoctorFactory.create()
    first = provider_client.post(URL, payload(day, doctor=doctor.pk), format="json").json()
    response = provider_client.post(URL, payload(day, 9, 15, doctor=doctor.pk), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "doctor_conflict"
    assert body["conflicting_appointment_id"] == first["id"]
    assert len(body["next_available"]) == 3
    assert Appointment.objects.count() == 1


def test_patch_reschedules_through_the_same_rules(provider_client, day):
    doctor = DoctorFactory.create()
    appointment = appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 9),
        duration_minutes=30,
    )
    blocker = appointment_book(
        actor=system_actor(),
        patient=PatientFactory.create(),
        doctor=doctor,
        start_time=at(day, 11),
        duration_minutes=30,
    )
    url = f"{URL}{appointment.pk}/"
    moved = provider_client.patch(url, {"start_time": at(day, 9, 15).isoformat()}, format="json")
    assert moved.status_code == 200
    assert moved.json()["end_time"].startswith(str(day))
    clash = provider_client.patch(url, {"start_time": at(day, 11).isoformat()}, format="json")
    assert clash.status_code == 409
    assert clash.json()["conflicting_appointment_id"] == str(blocker.pk)
    naive = provider_client.patch(url, {"start_time": "2030-01-07T09:00:00"}, format="json")
    assert naive.status_code == 400
    reason = provider_client.patch(url, {"reason": "Bring the ECG"}, format="json")
    assert reason.status_code == 200
    assert reason.json()["reason"] == "Bring the ECG"


def test_put_is_not_offered(provider_client, day):
    appointment = AppointmentFactory.create(start_time=at(day, 9))
    response = provider_client.put(f"{URL}{appointment.pk}/", payload(day), format="json")
    assert response.status_code == 405


def test_cancel_then_cancel_again(provider_client, day):
    appointment = AppointmentFactory.create(start_time=at(day, 9))
    url = f"{URL}{appointment.pk}/cancel/"
    response = provider_client.post(url, {"reason": "Feeling better"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"] == "Feeling better"
    again = provider_client.post(url, {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_cancelled"


def test_complete_and_no_show_need_a_started_appointment(provider_client, day):
    future = AppointmentFactory.create(start_time=at(day, 9))
    started = AppointmentFactory.create(start_time=timezone.now() - timedelta(minutes=10))
    missed = AppointmentFactory.create(start_time=timezone.now() - timedelta(minutes=40))
    assert provider_client.post(f"{URL}{future.pk}/complete/").json()["code"] == "not_started"
    assert provider_client.post(f"{URL}{future.pk}/no-show/").status_code == 409
    done = provider_client.post(f"{URL}{started.pk}/complete/")
    assert (done.status_code, done.json()["status"]) == (200, "completed")
    gone = provider_client.post(f"{URL}{missed.pk}/no-show")
    assert (gone.status_code, gone.json()["status"]) == (200, "no_show")


def test_delete_is_admin_only(provider_client, admin_client_api, day):
    appointment = AppointmentFactory.create(start_time=at(day, 9))
    assert provider_client.delete(f"{URL}{appointment.pk}/").status_code == 403
    assert admin_client_api.delete(f"{URL}{appointment.pk}/").status_code == 204
    assert not Appointment.objects.exists()


def test_patient_with_appointments_cannot_be_deleted(admin_client_api, day):
    appointment = AppointmentFactory.create(start_time=at(day, 9))
    response = admin_client_api.delete(f"/api/v1/patients/{appointment.patient_id}/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "has_dependents"
    assert body["dependents"] == {"appointments": 1}
    assert "1 appointment" in body["detail"]


def test_list_filters_and_default_ordering(viewer_client, day):
    doctor = DoctorFactory.create()
    late = AppointmentFactory.create(doctor=doctor, start_time=at(day, 15))
    early = AppointmentFactory.create(doctor=doctor, start_time=at(day, 9))
    AppointmentFactory.create(start_time=at(day, 10), status=AppointmentStatus.COMPLETED)
    next_day = AppointmentFactory.create(doctor=doctor, start_time=at(day + timedelta(days=1), 9))

    def ids(**params):
        response = viewer_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(doctor_id=doctor.pk)[:2] == [str(early.pk), str(late.pk)]
    assert ids(doctor_id=doctor.pk, date=str(day)) == [str(early.pk), str(late.pk)]
    assert ids(status="completed", doctor_id=doctor.pk) == []
    assert ids(patient_id=next_day.patient_id) == [str(next_day.pk)]
    assert ids(
        doctor_id=doctor.pk,
        start_after=at(day, 9, 1).isoformat(),
        start_before=at(day + timedelta(days=1), 9).isoformat(),
    ) == [str(late.pk)]
    assert ids(doctor_id=doctor.pk, ordering="-start_time")[0] == str(next_day.pk)


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-13-01"},
        {"date": "yesterday"},
        {"start_after": "2030-01-07T09:00:00"},
        {"doctor_id": "nope"},
        {"status": "lost"},
        {"ordering": "patient"},
    ],
)
def test_malformed_filters_are_400(viewer_client, params):
    response = viewer_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@override_settings(CLINIC_TIME_ZONE="America/New_York")
def test_date_filter_uses_the_clinic_calendar_day(viewer_client):
    day = future_weekday(10)
    before_midnight = AppointmentFactory.create(start_time=at(day, 23, 30))  # 03:30/04:30Z next day
    after_midnight = AppointmentFactory.create(start_time=at(day, 0, 15))
    next_midnight = AppointmentFactory.create(start_time=at(day + timedelta(days=1), 0, 0))
    assert before_midnight.start_time.astimezone(UTC).date() == day + timedelta(days=1)
    response = viewer_client.get(URL, {"date": str(day)})
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(before_midnight.pk), str(after_midnight.pk)}
    assert str(next_midnight.pk) not in ids


def test_list_query_count_does_not_grow_with_page_size(
    viewer_client, django_assert_max_num_queries, day
):
    for i in range(12):
        AppointmentFactory.create(start_time=at(day, 8) + timedelta(minutes=30 * i))
    counts = {}
    for size in (5, 10):  # both with a next page, so both count
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get(URL, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(queries)
    assert counts[5] == counts[10]
    with django_assert_max_num_queries(counts[10] - 1):  # one page holds all: no count
        response = viewer_client.get(URL, {"page_size": 100})
    assert response.json()["count"] == 12
    print(f"appointment list: {counts[10]} queries per page")  # noqa: T201


# --- Roles -------------------------------------------------------------------------------
OPERATIONS = {
    "list": ("get", lambda a: URL, None),
    "retrieve": ("get", lambda a: f"{URL}{a.pk}/", None),
    "create": ("post", lambda a: URL, "book"),
    "reschedule": ("patch", lambda a: f"{URL}{a.pk}/", "move"),
    "cancel": ("post", lambda a: f"{URL}{a.pk}/cancel/", None),
    "complete": ("post", lambda a: f"{URL}{a.pk}/complete/", None),
    "no_show": ("post", lambda a: f"{URL}{a.pk}/no-show/", None),
    "delete": ("delete", lambda a: f"{URL}{a.pk}/", None),
}
EXPECTED = {
    # operation: (Viewer, Provider, Admin)
    "list": (200, 200, 200),
    "retrieve": (200, 200, 200),
    "create": (403, 201, 201),
    "reschedule": (403, 200, 200),
    "cancel": (403, 200, 200),
    "complete": (403, 200, 200),
    "no_show": (403, 200, 200),
    "delete": (403, 403, 204),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER, Role.ADMIN])
def test_role_matrix(client_for, day, operation, role):
    method, url, body_kind = OPERATIONS[operation]
    if operation in ("complete", "no_show"):
        appointment = AppointmentFactory.create(start_time=timezone.now() - timedelta(minutes=5))
    else:
        appointment = AppointmentFactory.create(start_time=at(day, 14))
    body = None
    if body_kind == "book":
        body = payload(day, 9)
    elif body_kind == "move":
        body = {"start_time": at(day, 15).isoformat()}
    client = client_for(role)
    response = getattr(client, method)(url(appointment), body, format="json")
    expected = EXPECTED[operation][[Role.VIEWER, Role.PROVIDER, Role.ADMIN].index(role)]
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_401(method):
    response = getattr(APIClient(), method)(URL, {}, format="json")
    assert response.status_code == 401
