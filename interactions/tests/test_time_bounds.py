"""An interaction cannot have occurred before the patient was born."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from appointments.tests.factories import PatientFactory
from interactions.models import Interaction
from interactions.tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/interactions/"


def field_codes(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00Z", "1990-05-31T23:59:59Z"])
def test_before_birth_is_refused(provider_client, occurred_at):
    patient = PatientFactory.create(date_of_birth=date(1990, 6, 1))
    response = provider_client.post(
        URL,
        {"patient_id": str(patient.pk), "outcome": "healthy", "occurred_at": occurred_at},
        format="json",
    )
    assert response.status_code == 400
    assert field_codes(response) == {("occurred_at", "before_birth")}
    assert not Interaction.objects.exists()


def test_the_birth_day_itself_is_accepted(provider_client):
    patient = PatientFactory.create(date_of_birth=date(1990, 6, 1))
    response = provider_client.post(
        URL,
        {"patient_id": str(patient.pk), "outcome": "healthy", "occurred_at": "1990-06-01T00:00Z"},
        format="json",
    )
    assert response.status_code == 201, response.json()


@override_settings(CLINIC_TIME_ZONE="Asia/Tokyo")
def test_the_birth_day_is_the_clinic_calendar_day(provider_client):
    # 1990-06-01 00:00 in Tokyo (UTC+9) is 1990-05-31 15:00 UTC.
    patient = PatientFactory.create(date_of_birth=date(1990, 6, 1))
    for occurred_at, status in (("1990-05-31T14:59Z", 400), ("1990-05-31T15:00Z", 201)):
        response = provider_client.post(
            URL,
            {"patient_id": str(patient.pk), "outcome": "healthy", "occurred_at": occurred_at},
            format="json",
        )
        assert response.status_code == status, (occurred_at, response.json())


def test_amending_to_before_birth_is_refused(provider_client):
    interaction = InteractionFactory.create(patient__date_of_birth=date(1990, 6, 1))
    response = provider_client.post(
        f"{URL}{interaction.pk}/amend/",
        {"occurred_at": "1900-01-01T00:00:00Z", "notes": "moved"},
        format="json",
    )
    assert response.status_code == 400
    assert field_codes(response) == {("occurred_at", "before_birth")}
    assert Interaction.objects.count() == 1
