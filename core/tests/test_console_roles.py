"""The console as each role uses it: the seeded demo accounts (never a superuser) log in
through the login form and open every changelist and change view."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from core.tests.console_helpers import build_clinic, login

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "provider", "admin")


def _objects(clinic: Any) -> dict[str, Any]:
    return {
        "patients.patient": clinic.patient,
        "doctors.doctor": clinic.doctor,
        "appointments.appointment": clinic.appointment,
        "outcomes.outcome": clinic.outcome,
        "interactions.interaction": clinic.interaction,
        "notes.note": clinic.note,
        "summaries.summary": clinic.summary,
        "auth.user": clinic.users["viewer"],
        "auth.group": None,
    }


def test_every_role_account_is_staff_and_not_superuser() -> None:
    clinic = build_clinic()
    for username in ROLES:
        user = clinic.users[username]
        assert user.is_staff and not user.is_superuser


@pytest.mark.parametrize("username", ROLES)
def test_each_role_walks_every_changelist_and_change_view(username: str) -> None:
    clinic = build_clinic()
    client = login(username)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert b"have permission to view or edit anything" not in index.content
    objects = _objects(clinic)
    user = clinic.users[username]
    walked = 0
    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        info = (model._meta.app_label, model._meta.model_name)
        may_view = user.has_perm(f"{label.split('.')[0]}.view_{model._meta.model_name}")
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == (200 if may_view else 403), label
        obj = objects.get(label)
        if obj is None:
            obj = model._default_manager.first()
        if obj is not None:
            page = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert page.status_code == (200 if may_view else 403), label
            walked += 1
    assert walked >= 8


def test_viewer_sees_read_only_pages_and_cannot_add() -> None:
    clinic = build_clinic()
    client = login("viewer")
    page = client.get(reverse("admin:patients_patient_change", args=[clinic.patient.pk]))
    assert page.status_code == 200
    assert b'name="first_name"' not in page.content  # read-only
    assert b"Hadad" in page.content
    for name in (
        "patients_patient",
        "appointments_appointment",
        "interactions_interaction",
        "notes_note",
    ):
        assert client.get(reverse(f"admin:{name}_add")).status_code == 403, name
    response = client.post(
        reverse("admin:patients_patient_change", args=[clinic.patient.pk]),
        {
            "first_name": "Changed",
            "last_name": "Hadad",
            "date_of_birth": "1980-01-01",
            "gender": "female",
        },
    )
    assert response.status_code == 403
    clinic.patient.refresh_from_db()
    assert clinic.patient.first_name == "Maria"


def test_provider_configures_nothing() -> None:
    clinic = build_clinic()
    client = login("provider")
    assert client.get(reverse("admin:doctors_doctor_add")).status_code == 403
    assert client.get(reverse("admin:outcomes_outcome_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    page = client.get(reverse("admin:doctors_doctor_change", args=[clinic.doctor.pk]))
    assert page.status_code == 200 and b'name="full_name"' not in page.content
    assert client.get(reverse("admin:patients_patient_add")).status_code == 200
    assert client.get(reverse("admin:appointments_appointment_add")).status_code == 200


def test_admin_creates_a_provider_account_with_the_role_picker() -> None:
    build_clinic()
    client = login("admin")
    form = client.get(reverse("admin:auth_user_add"))
    assert b'name="role"' in form.content
    assert b"user_permissions" not in form.content and b"is_superuser" not in form.content
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "nurse.jo",
            "first_name": "Jo",
            "last_name": "Nurse",
            "email": "jo@clinic.example",
            "role": "provider",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    user = User.objects.get(username="nurse.jo")
    assert list(user.groups.values_list("name", flat=True)) == ["Provider"]
    assert user.is_staff and not user.is_superuser
    assert user.has_perm("patients.add_patient") and not user.has_perm("doctors.change_doctor")
    # The new account can work at once.
    from django.test import Client

    new = Client()
    assert new.login(username="nurse.jo", password="a-Long-passphrase-42")
    assert new.get(reverse("admin:patients_patient_add")).status_code == 200


def test_dashboard_charts_count_what_happened() -> None:
    clinic = build_clinic()
    client = login("viewer")
    page = client.get(reverse("admin:index")).content.decode()
    # build_clinic recorded one "monitor" interaction today and booked one appointment.
    assert "<title>" in page and "1 Monitor</title>" in page
    assert "1 scheduled</title>" in page
    assert (
        clinic.patient.last_name not in page.split('id="dash-critical"')[1].split("</section>")[0]
    )
