"""Hostile bodies against every operation of the OpenAPI schema that takes JSON.

The operations are read from the schema the API serves, so a new endpoint is covered
the day it is added. Each gets, as a caller allowed to use it, with real ids in its path:

* a body nested 2,000 deep            -> 400 ``parse_error``
* a NUL in every string property      -> 400 ``validation_error``, NUL named per field
* a NUL in a key                      -> 400 ``validation_error``
* a duplicated key                    -> 400 ``duplicate_key`` naming it
* numbers no column holds (1e999, 2**63, a 5,000-digit integer) -> 400 ``parse_error``

and every table must hold exactly what it held before (no row written or changed).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator

from appointments.tests.factories import AppointmentFactory
from appointments.tests.helpers import at, future_weekday
from core.permissions import Role
from doctors.tests.factories import DoctorFactory
from interactions.tests.factories import InteractionFactory
from notes.tests.factories import make_note, make_patient
from outcomes.tests.factories import OutcomeFactory

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "detail", "errors", "request_id"}


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def json_operations() -> list[tuple[str, str]]:
    schema = _schema()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                found.append((method, path))
    return sorted(found)


def properties(method: str, path: str) -> dict[str, dict[str, Any]]:
    schema = _schema()
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
    props: dict[str, dict[str, Any]] = _resolve(schema, body["schema"]).get("properties", {})
    return {name: _resolve(schema, prop) for name, prop in props.items()}


def _string_properties(method: str, path: str) -> list[str]:
    names = []
    for name, prop in properties(method, path).items():
        if prop.get("readOnly"):
            continue
        variants = [_resolve(_schema(), p) for p in prop.get("oneOf", [])]
        kinds = {prop.get("type")} | {variant.get("type") for variant in variants}
        if "string" in kinds or "enum" in prop:
            names.append(name)
    return names


@pytest.fixture
def world() -> dict[str, str]:
    """One real object of every kind, so each path resolves and the body is parsed."""
    patient = make_patient()
    note = make_note(patient=patient)
    return {
        "patients": str(patient.pk),
        "patient_pk": str(patient.pk),
        "doctors": str(DoctorFactory.create().pk),
        "appointments": str(
            AppointmentFactory.create(patient=patient, start_time=at(future_weekday(), 9)).pk
        ),
        "interactions": str(InteractionFactory.create(patient=patient).pk),
        "notes": str(note.pk),
        "outcomes": OutcomeFactory.create().code,
    }


def url_for(path: str, world: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in world:
            return world[name]
        resource = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return world[resource]

    return re.sub(r"\{(\w+)\}", fill, path)


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, as text (an update shows as well as an insert). The
    audit trail is left out: the refusal's own audit event is meant to be written."""
    return {
        model._meta.label: sorted(repr(row) for row in model._default_manager.values_list())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.app_label != "audit"
    }


@pytest.fixture
def send(client_for: Any, world: dict[str, str]) -> Any:
    """Send ``body`` (raw text) as a caller allowed to call the operation."""
    clients = {role: client_for(role) for role in (Role.PROVIDER, Role.ADMIN)}

    def go(method: str, path: str, body: str) -> Any:
        url = url_for(path, world)
        response = None
        for role in (Role.PROVIDER, Role.ADMIN):
            response = clients[role].generic(
                method.upper(), url, body.encode("utf-8"), content_type="application/json"
            )
            if response.status_code != 403:
                break
        assert response is not None
        return response

    return go


def assert_refused(response: Any, code: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) >= ERROR_KEYS, body
    assert body["code"] == code, body
    return body


OPERATIONS = json_operations()
IDS = [f"{m.upper()} {p}" for m, p in OPERATIONS]


def test_the_schema_really_lists_the_json_operations() -> None:
    assert ("post", "/api/v1/patients/") in OPERATIONS
    assert ("post", "/api/v1/auth/token/") in OPERATIONS
    assert len(OPERATIONS) >= 15


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_deep_nesting(send: Any, method: str, path: str) -> None:
    before = snapshot()
    body = assert_refused(send(method, path, "[" * 2000 + "]" * 2000), "parse_error")
    assert "nested deeper" in body["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_nul_in_every_string(send: Any, method: str, path: str) -> None:
    names = _string_properties(method, path) or ["anything"]
    before = snapshot()
    response = send(method, path, json.dumps(dict.fromkeys(names, "a\x00b")))
    body = assert_refused(response, "validation_error")
    flagged = {e["field"] for e in body["errors"] if e["code"] == "null_characters_not_allowed"}
    assert flagged == set(names)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_nul_in_a_key(send: Any, method: str, path: str) -> None:
    before = snapshot()
    assert_refused(send(method, path, '{"a\\u0000b": 1}'), "validation_error")
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_duplicate_key(send: Any, method: str, path: str) -> None:
    name = next(iter(properties(method, path)), "anything")
    before = snapshot()
    body = assert_refused(send(method, path, f'{{"{name}": "x", "{name}": "y"}}'), "duplicate_key")
    assert body["errors"] == [
        {"field": name, "code": "duplicate_key", "detail": body["errors"][0]["detail"]}
    ]
    assert snapshot() == before


@pytest.mark.parametrize("number", ["1e999", "-1e999", str(2**63), "9" * 5000])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_huge_numbers(send: Any, method: str, path: str, number: str) -> None:
    names = list(properties(method, path)) or ["anything"]
    before = snapshot()
    fields = ", ".join(f'"{name}": {number}' for name in names)
    assert_refused(send(method, path, "{" + fields + "}"), "parse_error")
    assert snapshot() == before


def test_a_well_formed_body_reaches_the_operation(send: Any) -> None:
    """The same callers and paths, with a good body, do get through (so the refusals
    above come from the body, not from a role or a path)."""
    response = send(
        "post",
        "/api/v1/patients/",
        json.dumps({"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"}),
    )
    assert response.status_code == 201, response.json()
