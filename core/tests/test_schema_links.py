"""OpenAPI links (core.schema.add_links): every create points at what it made reachable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client: APIClient) -> dict[str, Any]:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method, path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    }


def test_creates_link_to_every_operation_on_their_records(schema: dict[str, Any]) -> None:
    links = schema["paths"]["/api/v1/patients/"]["post"]["responses"]["201"]["links"]
    assert links["api_v1_patients_retrieve"]["parameters"] == {"id": "$response.body#/id"}
    assert links["api_v1_patients_notes_create"]["parameters"] == {
        "patient_pk": "$response.body#/id"
    }
    outcome_links = schema["paths"]["/api/v1/outcomes/"]["post"]["responses"]["201"]["links"]
    assert outcome_links["api_v1_outcomes_destroy"]["parameters"] == {
        "code": "$response.body#/code"
    }
    # Every operation on an item of a collection that has a create is linked from it.
    ops = operations(schema)
    linked = {
        name
        for path_ops in schema["paths"].values()
        for op in path_ops.values()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
        for name in response.get("links", {})
    }
    for name, (_method, path) in ops.items():
        resource = path.split("/")[3] if path.count("/") > 4 else None
        creatable = resource and "post" in schema["paths"].get(f"/api/v1/{resource}/", {})
        if creatable and re.search(r"\{\w+\}", path):
            assert name in linked, name


def test_following_a_link_reaches_the_created_record(
    schema: dict[str, Any], provider_client: APIClient
) -> None:
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1980-02-03"},
        format="json",
    )
    assert created.status_code == 201
    ops = operations(schema)
    links = schema["paths"]["/api/v1/patients/"]["post"]["responses"]["201"]["links"]
    for name in ("api_v1_patients_retrieve", "api_v1_patients_timeline_retrieve"):
        method, path = ops[links[name]["operationId"]]
        (parameter, expression) = next(iter(links[name]["parameters"].items()))
        value = created.json()[expression.rsplit("/", 1)[-1]]
        response = getattr(provider_client, method)(path.replace(f"{{{parameter}}}", value))
        assert response.status_code == 200, (name, response.status_code)
