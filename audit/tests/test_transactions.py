"""A write and its event commit together; nothing is served that could not be recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from core.permissions import Role
from patients.models import Patient
from patients.tests.factories import PatientFactory

NEW_PATIENT = {
    "first_name": "Ada",
    "last_name": "Byron",
    "date_of_birth": "1985-12-10",
    "gender": "female",
}


@pytest.fixture
def audit_table_refuses_inserts() -> Iterator[None]:
    """The audit table stops accepting rows (a full disk, a revoked grant...)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_audit_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit storage unavailable'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_audit_refuse BEFORE INSERT ON audit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION test_audit_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_audit_refuse BEFORE INSERT ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER test_audit_refuse ON audit_auditevent")
                cursor.execute("DROP FUNCTION test_audit_refuse()")
            else:
                cursor.execute("DROP TRIGGER test_audit_refuse")


@pytest.mark.django_db(transaction=True)
def test_a_write_whose_event_cannot_be_stored_does_not_happen(
    client_for, audit_table_refuses_inserts: None
) -> None:
    client: APIClient = client_for(Role.PROVIDER)
    response = client.post("/api/v1/patients/", NEW_PATIENT, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "audit_unavailable"
    assert not Patient.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_whose_event_cannot_be_stored_is_not_served(
    client_for, audit_table_refuses_inserts: None
) -> None:
    patient = PatientFactory.create(last_name="Unserved")
    client: APIClient = client_for(Role.VIEWER)
    response = client.get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == 503
    assert "Unserved" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_has_its_event_and_a_failed_one_its_refusal(client_for) -> None:
    client: APIClient = client_for(Role.PROVIDER)
    created = client.post("/api/v1/patients/", NEW_PATIENT, format="json")
    assert created.status_code == 201
    event = AuditEvent.objects.get(action=Action.CREATE)
    assert event.patient_id is not None and str(event.patient_id) == created.json()["id"]
    assert event.status_code is None  # written inside the change's transaction

    refused = client.post("/api/v1/patients/", {**NEW_PATIENT, "email": "bad"}, format="json")
    assert refused.status_code == 400
    assert AuditEvent.objects.filter(action=Action.CREATE, status_code=400).count() == 1
    assert Patient.objects.count() == 1
