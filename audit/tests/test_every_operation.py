"""Every API operation in the schema, and every admin page of every registered model,
records exactly one audit event naming the right action, resource and patient.

The operations are read from the OpenAPI schema, so a new endpoint is tested the day it
appears: without auditing it records no event and fails here; a custom action must be
given its expected audit action below.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from audit.models import Action
from audit.tests.conftest import Clinic, events_after, last_seq
from core.permissions import Role

# Not patient data: who am I, and the public index of the API's resources.
EXEMPT = {("get", "/api/v1/auth/me/"), ("get", "/api/v1/")}
COLLECTIONS = {
    "patients": "patient",
    "doctors": "doctor",
    "appointments": "appointment",
    "outcomes": "outcome",
    "interactions": "interaction",
    "notes": "note",
    "summaries": "summary",
    "audit-events": "audit_event",
    "imports": "import_job",
}
# Bulk transfers: one import or export event, with its row count.
TRANSFERS = {
    ("post", "/api/v1/patients/import/"): (Action.IMPORT, "patient"),
    ("post", "/api/v1/interactions/import/"): (Action.IMPORT, "interaction"),
    ("get", "/api/v1/patients/export/"): (Action.EXPORT, "patient"),
    ("get", "/api/v1/interactions/export/"): (Action.EXPORT, "interaction"),
}
# A patient's sub-resources: (resource type, action of a GET).
NESTED = {
    "notes": ("note", Action.LIST),
    "interactions": ("interaction", Action.LIST),
    "summaries": ("summary", Action.LIST),
    "summary": ("summary", Action.VIEW),
    "summary.html": ("summary", Action.VIEW),
    "clinical-data": ("clinical_data", Action.VIEW),
    "timeline": ("timeline", Action.VIEW),
    "access-log": ("access_log", Action.LIST),
    "history": ("history", Action.VIEW),
}
CUSTOM_ACTIONS = {
    "sign": Action.SIGN,
    "retract": Action.RETRACT,
    "amend": Action.AMEND,
    "addenda": Action.CREATE,
    "reprocess": Action.UPDATE,
    "file": Action.DOWNLOAD,
    "cancel": Action.UPDATE,
    "complete": Action.UPDATE,
    "no-show": Action.UPDATE,
    "toggle-status": Action.UPDATE,
    "retry": Action.UPDATE,
    "availability": Action.VIEW,
}
OWNED_BY_PATIENT = {"appointment", "interaction", "note", "summary"}
METHOD_ACTIONS = {
    "post": Action.CREATE,
    "put": Action.UPDATE,
    "patch": Action.UPDATE,
    "delete": Action.DELETE,
}


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method, path))
    return sorted(found)


OPERATIONS = _operations()


def _expected(method: str, path: str) -> tuple[str, str, bool]:
    """(action, resource type, whether the event names the clinic's patient)."""
    if (method, path) in TRANSFERS:
        return *TRANSFERS[(method, path)], False
    if path.startswith("/api/v1/auth/token"):
        return (Action.LOGIN_FAILED if method == "post" else Action.TOKEN_REVOKED), "token", False
    parts = [p for p in path.removeprefix("/api/v1/").split("/") if p]
    resource = COLLECTIONS[parts[0]]
    nested_patient = parts[0] == "patients" and len(parts) > 2 and parts[2] in NESTED
    if nested_patient:
        resource, read_action = NESTED[parts[2]]
        action = read_action if method == "get" else METHOD_ACTIONS[method]
        return action, resource, True
    names_patient = len(parts) > 1 and (resource == "patient" or resource in OWNED_BY_PATIENT)
    if len(parts) > 2:
        assert parts[2] in CUSTOM_ACTIONS, f"{method.upper()} {path}: add its audit action"
        return CUSTOM_ACTIONS[parts[2]], resource, names_patient
    if method == "get":
        return (Action.VIEW if len(parts) > 1 else Action.LIST), resource, names_patient
    return METHOD_ACTIONS[method], resource, names_patient


def _fill(path: str, clinic: Clinic) -> str:
    parts = [p for p in path.removeprefix("/api/v1/").split("/") if p]
    resource = COLLECTIONS.get(parts[0], "") if parts else ""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("patient_pk", "patient_id"):
            return str(clinic.patient.pk)
        return str(clinic.objects[resource].pk)

    return re.sub(r"\{(\w+)\}", value, path)


def test_the_schema_lists_the_api() -> None:
    assert ("get", "/api/v1/patients/") in OPERATIONS
    assert ("get", "/api/v1/audit-events/") in OPERATIONS
    assert len(OPERATIONS) > 50


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_api_operation_records_one_event(
    method: str, path: str, clinic: Clinic, client_for: Any
) -> None:
    client: APIClient = client_for(Role.ADMIN)
    url = _fill(path, clinic)
    before = last_seq()
    response = (
        getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
    )
    assert response.status_code not in (401, 500), (url, response.status_code)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # type: ignore[union-attr]  # it records
    events = events_after(before)
    if (method, path) in EXEMPT:
        assert events == []
        return
    assert len(events) == 1, (method, url, response.status_code, [e.action for e in events])
    event = events[0]
    action, resource, names_patient = _expected(method, path)
    assert (event.action, event.resource_type) == (action, resource), (method, url)
    if names_patient:
        assert event.patient_id == clinic.patient.pk, (method, url)
    if method == "get" and not path.startswith("/api/v1/auth/"):
        assert event.status_code == response.status_code
    assert event.actor_id == client.user.pk  # type: ignore[attr-defined]
    assert event.actor_role == "Admin"
    assert event.ip == "127.0.0.1"


def _admin_models() -> list[Any]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.django_db
@pytest.mark.parametrize("model", _admin_models(), ids=lambda m: m._meta.label)
def test_every_admin_changelist_and_change_view_records_one_event(
    model: Any, clinic: Clinic, admin_client: Client
) -> None:
    opts = model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    patient_field = model is clinic.patient.__class__ or any(
        f.name == "patient" for f in opts.fields
    )

    before = last_seq()
    response = admin_client.get(base)
    assert response.status_code == 200, base
    events = events_after(before)
    assert [(e.action, e.resource_type) for e in events] == [(Action.LIST, opts.model_name)]
    if patient_field and model._default_manager.exists():
        assert str(clinic.patient.pk) in events[0].returned_ids

    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        return
    url = f"{base}{obj.pk}/change/"
    before = last_seq()
    response = admin_client.get(url)
    assert response.status_code == 200, url
    events = events_after(before)
    assert [(e.action, e.resource_type, e.resource_id) for e in events] == [
        (Action.VIEW, opts.model_name, str(obj.pk))
    ]
    if patient_field:
        assert events[0].patient_id == clinic.patient.pk


@pytest.mark.django_db
def test_admin_search_is_recorded_with_the_patients_it_showed(
    clinic: Clinic, admin_client: Client
) -> None:
    before = last_seq()
    response = admin_client.get("/admin/patients/patient/", {"q": clinic.patient.last_name})
    assert response.status_code == 200
    (event,) = events_after(before)
    assert event.action == Action.SEARCH
    assert event.returned_ids == [str(clinic.patient.pk)]
