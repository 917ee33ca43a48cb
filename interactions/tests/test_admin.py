"""The admin: outcomes configured through the services, interactions read-only except
for the amend and retract actions, and the history inline on the patient page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from appointments.tests.factories import PatientFactory
from core.actors import system_actor
from core.permissions import Role
from interactions.models import Interaction, InteractionStatus
from interactions.services import interaction_record
from outcomes.models import Outcome

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/interactions/interaction/"


@pytest.fixture
def staff(make_user) -> Client:
    user: User = make_user(Role.ADMIN, username="staff-admin")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def interaction():
    return interaction_record(
        actor=system_actor(),
        patient=PatientFactory.create(),
        outcome=Outcome.objects.get(pk="healthy"),
        notes="Fine",
    )


def test_interactions_are_recorded_once_never_edited_or_deleted(staff, interaction):
    assert staff.get(f"{CHANGELIST}add/").status_code == 200  # through interaction_record
    page = staff.get(f"{CHANGELIST}{interaction.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert staff.get(f"{CHANGELIST}{interaction.pk}/delete/").status_code == 403


def test_retract_action_asks_for_a_reason_then_calls_the_service(staff, interaction):
    form = {"action": "retract", "_selected_action": [str(interaction.pk)]}
    page = staff.post(CHANGELIST, form)
    assert page.status_code == 200
    assert b'name="reason"' in page.content
    missing = staff.post(CHANGELIST, {**form, "apply": "1", "reason": ""})
    assert missing.status_code == 200
    assert Interaction.objects.get().is_current
    done = staff.post(CHANGELIST, {**form, "apply": "1", "reason": "Wrong patient"})
    assert done.status_code == 302
    interaction.refresh_from_db()
    assert interaction.status == InteractionStatus.ENTERED_IN_ERROR
    assert interaction.retraction_reason == "Wrong patient"
    assert interaction.retracted_by.username == "staff-admin"


def test_amend_action_creates_the_amendment(staff, interaction):
    form = {"action": "amend", "_selected_action": [str(interaction.pk)]}
    page = staff.post(CHANGELIST, form)
    assert page.status_code == 200
    assert b'name="outcome"' in page.content
    local = interaction.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
    done = staff.post(
        CHANGELIST,
        {**form, "apply": "1", "outcome": "critical", "occurred_at": local, "notes": "Fine"},
    )
    assert done.status_code == 302
    interaction.refresh_from_db()
    assert interaction.status == InteractionStatus.AMENDED
    amendment = interaction.amended_by
    assert (amendment.outcome_id, amendment.notes) == ("critical", "Fine")
    # The form shows whole seconds; an unchanged time is carried over exactly.
    assert amendment.occurred_at == interaction.occurred_at
    assert amendment.patient.latest_outcome.code == "critical"
    # Amending the amended entry again shows the 409's message on the form.
    again = staff.post(
        CHANGELIST,
        {**form, "apply": "1", "outcome": "monitor", "occurred_at": local, "notes": "x"},
    )
    assert again.status_code == 200
    assert b"Only a current entry can be amended" in again.content


def test_viewer_staff_cannot_use_the_correction_actions(make_user, interaction):
    user = make_user(Role.VIEWER, username="staff-viewer")
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename="view_interaction"))
    client = Client()
    client.force_login(user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert b'value="retract"' not in page.content


def test_patient_chart_timeline_shows_the_interaction(staff, interaction):
    page = staff.get(f"/admin/patients/patient/{interaction.patient_id}/change/")
    assert page.status_code == 200
    assert b"Interaction: Healthy" in page.content


def test_outcome_admin_saves_through_the_services(staff):
    created = staff.post(
        "/admin/outcomes/outcome/add/",
        {
            "code": "Urgent",
            "label": "Urgent",
            "description": "",
            "severity": 3,
            "sort_order": 9,
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    assert Outcome.objects.get(pk="urgent").label == "Urgent"
    duplicate = staff.post(
        "/admin/outcomes/outcome/add/",
        {"code": "CRITICAL", "label": "x", "severity": 1, "sort_order": 1},
    )
    assert duplicate.status_code == 200
    assert b"already exists" in duplicate.content
    outcomes = list(Outcome.objects.order_by("sort_order", "severity", "code"))
    form = {
        "form-TOTAL_FORMS": str(len(outcomes)),
        "form-INITIAL_FORMS": str(len(outcomes)),
        "_save": "Save",
    }
    for n, outcome in enumerate(outcomes):
        form[f"form-{n}-code"] = outcome.code
        form[f"form-{n}-sort_order"] = str(outcome.sort_order)
        if outcome.is_active and outcome.code != "monitor":
            form[f"form-{n}-is_active"] = "on"
    response = staff.post("/admin/outcomes/outcome/", form)
    assert response.status_code == 302
    assert Outcome.objects.get(pk="monitor").is_active is False
    assert Outcome.objects.get(pk="healthy").is_active is True
