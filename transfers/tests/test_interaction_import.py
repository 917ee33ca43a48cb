"""POST /api/v1/interactions/import/: patients by id, MRN or external id; the API's
rules and codes; latest_outcome maintained."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.tests.factories import AppointmentFactory
from core.actors import system_actor
from doctors.tests.factories import DoctorFactory
from interactions.models import Interaction
from interactions.services import interaction_record
from outcomes.models import Outcome
from patients.models import Patient
from patients.tests.factories import PatientFactory
from transfers.tests.conftest import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients() -> list[Patient]:
    made = [PatientFactory.create() for _ in range(3)]
    Patient.objects.filter(pk=made[2].pk).update(external_id="EXT-3")
    return made


def test_rows_name_their_patient_by_id_mrn_or_external_id(
    import_interactions: Upload, patients: list[Patient], admin_api: APIClient
) -> None:
    doctor = DoctorFactory.create()
    a, b, c = patients
    content = (
        "patient_id,mrn,external_id,outcome,occurred_at,notes,doctor_id\n"
        f"{a.pk},,,monitor,2026-01-02T09:00:00+01:00,first,{doctor.pk}\n"
        f"{a.pk},,,critical,2026-01-03T09:00:00Z,newest,\n"
        f',{b.mrn},,healthy,2026-01-01T09:00:00Z,"two\nlines",\n'
        f",,EXT-3,monitor,2026-01-01T09:00:00Z,,\n"
    )

    response = import_interactions(content)

    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 4
    assert Interaction.objects.filter(patient=a).count() == 2
    assert Interaction.objects.get(patient=b).notes == "two\nlines"
    assert Interaction.objects.get(patient=c).outcome_id == "monitor"
    first = Interaction.objects.get(notes="first")
    assert (first.doctor_id, first.recorded_by.username) == (doctor.pk, "admin-user")  # type: ignore[union-attr]
    # latest_outcome is what the API reads, maintained as the services maintain it.
    shown = admin_api.get(f"/api/v1/patients/{a.pk}/").json()["latest_outcome"]
    assert (shown["code"], shown["occurred_at"]) == ("critical", "2026-01-03T09:00:00Z")
    assert Patient.objects.get(pk=c.pk).latest_outcome.code == "monitor"


def test_an_import_older_than_the_latest_entry_keeps_the_latest_outcome(
    import_interactions: Upload, patients: list[Patient]
) -> None:
    a = patients[0]
    interaction_record(actor=system_actor(), patient=a, outcome=Outcome.objects.get(pk="critical"))
    content = f"patient_id,outcome,occurred_at\n{a.pk},healthy,2020-01-01T00:00:00Z\n"

    assert import_interactions(content).status_code == 200

    assert Patient.objects.get(pk=a.pk).latest_outcome.code == "critical"


def test_a_row_the_api_rejects_is_rejected_with_the_same_code(
    import_interactions: Upload, patients: list[Patient], admin_api: APIClient
) -> None:
    a, b, _ = patients
    Outcome.objects.create(code="retired", label="Retired", severity=0, is_active=False)
    other = AppointmentFactory.create(patient=b, start_time=timezone.now() - timedelta(days=1))
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    base = {"patient_id": str(a.pk), "outcome": "monitor", "occurred_at": "2026-01-01T09:00:00Z"}
    cases = [
        ({"outcome": "nonsense"}, "outcome"),
        ({"outcome": "retired"}, "outcome"),
        ({"occurred_at": "2026-01-01T09:00:00"}, "occurred_at"),
        ({"occurred_at": future}, "occurred_at"),
        ({"occurred_at": "soon"}, "occurred_at"),
        ({"occurred_at": f"{a.date_of_birth - timedelta(days=1)}T12:00:00Z"}, "occurred_at"),
        ({"appointment_id": str(other.pk)}, "appointment_id"),
        ({"doctor_id": str(uuid.uuid4())}, "doctor_id"),
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        ({"notes": "x" * 20_001}, "notes"),
    ]
    rows = [{**base, **change} for change, _ in cases]

    imported = import_interactions(json.dumps(rows)).json()["errors"]

    assert [e["field"] for e in imported] == [name for _, name in cases]
    for (change, name), error in zip(cases, imported, strict=True):
        api = admin_api.post("/api/v1/interactions/", {**base, **change}, format="json").json()
        assert [(e["field"], e["code"]) for e in api["errors"]] == [(name, error["code"])], change
    assert Interaction.objects.count() == 0


def test_unknown_mrn_or_external_id_and_missing_patient_columns(
    import_interactions: Upload,
) -> None:
    rows = "mrn,outcome,occurred_at\nMRN-999999,monitor,2026-01-01T00:00:00Z\n"
    errors = import_interactions(rows).json()["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [(2, "mrn", "does_not_exist")]

    missing = import_interactions("outcome,occurred_at\nmonitor,2026-01-01T00:00:00Z\n")
    assert missing.status_code == 400
    assert missing.json()["columns"] == ["patient_id or mrn or external_id"]


def test_interaction_ids_are_kept_and_never_imported_twice(
    import_interactions: Upload, patients: list[Patient]
) -> None:
    a = patients[0]
    one, two = uuid.uuid4(), uuid.uuid4()
    content = (
        "id,patient_id,outcome,occurred_at\n"
        f"{one},{a.pk},monitor,2026-01-01T00:00:00Z\n"
        f"{two},{a.pk},monitor,2026-01-02T00:00:00Z\n"
    )
    assert import_interactions(content).status_code == 200
    assert set(Interaction.objects.values_list("pk", flat=True)) == {one, two}

    again = import_interactions(content + f"{one},{a.pk},healthy,2026-01-03T00:00:00Z\n").json()

    assert [(e["row"], e["code"]) for e in again["errors"]] == [
        (2, "already_exists"),
        (3, "already_exists"),
        (4, "duplicate_in_file"),
    ]
    assert Interaction.objects.count() == 2


def test_interactions_are_create_only_and_history_is_not_importable(
    import_interactions: Upload, patients: list[Patient]
) -> None:
    a = patients[0]
    content = (
        f"patient_id,outcome,occurred_at,status\n{a.pk},monitor,2026-01-01T00:00:00Z,amended\n"
    )

    upsert = import_interactions(content, mode="upsert")
    history = import_interactions(content).json()["errors"]

    assert (upsert.status_code, upsert.json()["code"]) == (400, "invalid_option")
    assert [(e["field"], e["code"]) for e in history] == [("status", "not_importable")]


def test_skip_mode_and_dry_run(import_interactions: Upload, patients: list[Patient]) -> None:
    a = patients[0]
    content = (
        "patient_id,outcome,occurred_at\n"
        f"{a.pk},monitor,2026-01-01T00:00:00Z\n"
        f"{a.pk},nonsense,2026-01-01T00:00:00Z\n"
    )

    dry: dict[str, Any] = import_interactions(content, dry_run=True, on_error="skip").json()
    assert (dry["created"], dry["skipped"], dry["written"]) == (1, 1, False)
    assert Interaction.objects.count() == 0

    done = import_interactions(content, on_error="skip").json()
    assert (done["created"], done["skipped"], done["written"]) == (1, 1, True)
    assert Interaction.objects.count() == 1
    assert Patient.objects.get(pk=a.pk).latest_outcome.code == "monitor"
