"""Typed update services: only the fields given change, ``None`` is a value, and an
unknown field is refused by the signature itself (mypy flags it before it runs)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from core.actors import actor_of, system_actor
from core.updates import update_fields
from doctors.services import doctor_update
from doctors.tests.factories import DoctorFactory
from patients.services import EDITABLE_FIELDS, patient_update
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_only_given_fields_change_and_none_clears() -> None:
    patient = PatientFactory.create(first_name="Ann", phone="+14155550101")
    patient_update(actor=system_actor(), patient=patient, phone=None)
    patient.refresh_from_db()
    assert (patient.first_name, patient.phone) == ("Ann", None)


def test_unknown_field_is_refused() -> None:
    doctor = DoctorFactory.create()
    changes: dict[str, Any] = {"ful_name": "Typo"}
    with pytest.raises(TypeError, match="ful_name"):
        doctor_update(doctor=doctor, actor=system_actor(), **changes)


def test_the_admin_form_offers_the_services_fields() -> None:
    assert update_fields(patient_update) == EDITABLE_FIELDS
    assert EDITABLE_FIELDS == (
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "email",
        "phone",
    )


def test_actor_of_an_anonymous_request_is_a_401() -> None:
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.exceptions import NotAuthenticated

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(NotAuthenticated):
        actor_of(request)
