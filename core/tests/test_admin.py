"""The staff console: every model deletes one record at a time, through its service."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from appointments.models import Appointment
from doctors.models import Doctor
from outcomes.models import Outcome
from patients.models import Patient


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Patient, Doctor, Outcome, Appointment])
def test_no_bulk_delete_action(model: type, admin_user) -> None:
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    actions = admin.site._registry[model].get_actions(request)
    assert "delete_selected" not in actions


@pytest.mark.django_db
def test_admin_pages_render(admin_client) -> None:
    for path in (
        "/admin/",
        "/admin/patients/patient/",
        "/admin/doctors/doctor/",
        "/admin/appointments/appointment/",
        "/admin/outcomes/outcome/",
        "/admin/interactions/interaction/",
        "/admin/notes/note/",
        "/admin/summaries/summary/",
    ):
        assert admin_client.get(path).status_code == 200, path
