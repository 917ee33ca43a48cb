"""Appointments start at most SCHEDULING_MAX_DAYS_AHEAD days from now."""

from __future__ import annotations

import pytest
from django.test import override_settings

from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory, PatientFactory
from appointments.tests.helpers import at, future_weekday
from doctors.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"


def body(start: str) -> dict[str, object]:
    return {
        "patient_id": str(PatientFactory.create().pk),
        "doctor_id": str(DoctorFactory.create().pk),
        "start_time": start,
        "duration_minutes": 30,
    }


def field_codes(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.mark.parametrize("start", ["9000-01-03T09:00:00Z", "9999-12-31T09:00:00+01:00"])
def test_year_9000_is_refused_by_default(provider_client, start):
    response = provider_client.post(URL, body(start), format="json")
    assert response.status_code == 400
    assert field_codes(response) == {("start_time", "too_far_ahead")}
    assert "730 days" in response.json()["errors"][0]["detail"]
    assert not Appointment.objects.exists()


@override_settings(SCHEDULING_MAX_DAYS_AHEAD=30)
def test_the_horizon_is_a_setting(provider_client):
    inside = provider_client.post(URL, body(at(future_weekday(20), 9).isoformat()), format="json")
    assert inside.status_code == 201, inside.json()
    beyond = provider_client.post(URL, body(at(future_weekday(32), 9).isoformat()), format="json")
    assert beyond.status_code == 400
    assert field_codes(beyond) == {("start_time", "too_far_ahead")}
    assert Appointment.objects.count() == 1


@override_settings(SCHEDULING_MAX_DAYS_AHEAD=30)
def test_rescheduling_beyond_the_horizon_is_refused(provider_client):
    appointment = AppointmentFactory.create(start_time=at(future_weekday(7), 9))
    response = provider_client.patch(
        f"{URL}{appointment.pk}/",
        {"start_time": at(future_weekday(40), 9).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert field_codes(response) == {("start_time", "too_far_ahead")}
    appointment.refresh_from_db()
    assert appointment.start_time == at(future_weekday(7), 9)
