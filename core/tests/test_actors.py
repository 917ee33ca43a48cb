"""Who a write is attributed to (core.actors): the signed-in person, or the system account
for writes no person made — never nobody."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.services import user_set_role, user_upsert
from appointments.models import Appointment
from audit.models import AuditEvent
from core.actors import SYSTEM_USERNAME, actor_named, system_actor
from core.permissions import Role
from interactions.models import Interaction
from notes.tests.factories import make_note
from patients.services import patient_create, patient_update
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def history(model: str) -> Any:
    """The change-history rows of ``model`` (django-simple-history, in the audit app)."""
    return apps.get_model("audit", f"Historical{model}").objects


def test_the_system_account_is_made_once_and_can_never_sign_in() -> None:
    first = system_actor()
    assert system_actor().pk == first.pk
    assert User.objects.filter(username=SYSTEM_USERNAME).count() == 1
    assert (first.is_active, first.is_staff, first.is_superuser) == (False, False, False)
    assert not first.has_usable_password()
    assert not first.groups.exists()
    # No password opens it, not even the unusable marker itself.
    assert authenticate(username=SYSTEM_USERNAME, password="") is None
    assert authenticate(username=SYSTEM_USERNAME, password=first.password) is None
    response = Client().post(
        reverse("admin:login"), {"username": SYSTEM_USERNAME, "password": first.password}
    )
    assert response.status_code == 200  # the form again, not a redirect into the console


def test_an_account_under_the_reserved_name_that_could_sign_in_is_refused() -> None:
    User.objects.create_user(username=SYSTEM_USERNAME, password="a-real-password-1")
    with pytest.raises(ImproperlyConfigured, match="reserved"):
        system_actor()


def test_the_system_account_never_gets_a_role() -> None:
    system = system_actor()
    with pytest.raises(ValidationError):
        user_set_role(user=system, role=Role.ADMIN)
    with pytest.raises(ValidationError):
        user_upsert(username=SYSTEM_USERNAME, role=Role.ADMIN, password="pw-for-tests-1")
    system.refresh_from_db()
    assert (system.is_staff, system.is_active, system.has_usable_password()) == (
        False,
        False,
        False,
    )
    with pytest.raises(CommandError, match="reserved"):
        call_command("create_api_user", SYSTEM_USERNAME, "--role", "admin", stdout=io.StringIO())


def test_the_console_cannot_edit_or_delete_the_system_account() -> None:
    from core.tests.console_helpers import build_clinic, login

    build_clinic()
    system = system_actor()
    client = login("admin")
    change = client.post(
        reverse("admin:auth_user_change", args=[system.pk]),
        {"username": SYSTEM_USERNAME, "is_active": "on", "role": "admin"},
    )
    assert change.status_code == 403
    assert client.post(reverse("admin:auth_user_delete", args=[system.pk])).status_code == 403
    system.refresh_from_db()
    assert not system.is_active


def test_a_command_actor_must_be_an_active_user() -> None:
    assert actor_named(None) == system_actor()
    person = user_upsert(username="ada", role=Role.ADMIN, password="pw-for-tests-1")
    assert actor_named("ada") == person
    with pytest.raises(CommandError, match="nobody"):
        actor_named("nobody")
    User.objects.filter(pk=person.pk).update(is_active=False)
    with pytest.raises(CommandError, match="ada"):
        actor_named("ada")


def test_a_write_outside_a_request_names_its_actor_in_the_change_history() -> None:
    person = user_upsert(username="ada", role=Role.PROVIDER, password="pw-for-tests-1")
    patient = patient_create(
        actor=person, first_name="Grace", last_name="Hopper", date_of_birth=date(1980, 1, 1)
    )
    patient_update(patient=patient, actor=system_actor(), phone="+14155550101")
    records = list(history("Patient").filter(id=patient.pk).order_by("history_date"))
    assert [(r.history_type, r.history_user.username) for r in records] == [
        ("+", "ada"),
        ("~", SYSTEM_USERNAME),
    ]


def test_the_workers_own_writes_are_the_system_accounts(make_user) -> None:
    author = make_user(Role.PROVIDER)
    note = make_note(patient=PatientFactory.create(), author=author)
    assert note.author == author
    users = {r.history_user.username for r in history("Note").filter(id=note.pk)}
    # Created by its author; read and analysed by the worker.
    assert users == {author.username, SYSTEM_USERNAME}


def test_an_api_write_is_still_the_callers_in_the_audit_trail_and_history(
    provider_client,
) -> None:
    response = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-02-03"},
        format="json",
    )
    assert response.status_code == 201
    user = provider_client.user
    event = AuditEvent.objects.get(action="create", resource_type="patient")
    assert (event.actor_id, event.actor_username) == (user.pk, user.username)
    record = history("Patient").get(id=response.json()["id"])
    assert record.history_user == user
    assert not User.objects.filter(username=SYSTEM_USERNAME).exists()


def test_the_demo_clinic_is_made_by_the_system_account() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    system = User.objects.get(username=SYSTEM_USERNAME)
    assert Appointment.objects.exists()
    assert set(Appointment.objects.values_list("created_by", flat=True)) == {system.pk}
    assert set(Interaction.objects.values_list("recorded_by", flat=True)) == {system.pk}


def test_an_import_command_records_its_actor(tmp_path: Path) -> None:
    patient = PatientFactory.create()
    person = user_upsert(username="ada", role=Role.ADMIN, password="pw-for-tests-1")
    source = tmp_path / "i.ndjson"
    row = f'{{"mrn": "{patient.mrn}", "outcome": "monitor", "occurred_at": "%s"}}\n'
    source.write_text(row % "2026-01-01T00:00:00Z")
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("import_interactions", str(source), "--actor", "ada", **quiet)
    source.write_text(row % "2026-01-02T00:00:00Z")
    call_command("import_interactions", str(source), **quiet)
    recorded = Interaction.objects.order_by("occurred_at").values_list(
        "recorded_by__username", flat=True
    )
    assert list(recorded) == [person.username, SYSTEM_USERNAME]
