"""/api/v1/ answers an index; every other unknown /api/ path a JSON 404."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

UNKNOWN = ["/api/v1/nope/", "/api/v1/nope", "/api/x", "/api", "/api/v2/patients/", "/api/v1/notes/"]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_unknown_api_paths_are_json_404s(api_client: APIClient, path, method, debug) -> None:
    with override_settings(DEBUG=debug):
        response = getattr(api_client, method)(path, {"a": 1}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["code"], body["detail"], body["errors"]) == ("not_found", "Not found.", [])
    assert body["request_id"] == response["X-Request-ID"]


def test_unknown_paths_outside_the_api_keep_django_pages(api_client: APIClient) -> None:
    response = api_client.get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1"])
def test_api_root_is_a_public_index_with_links(api_client: APIClient, path) -> None:
    response = api_client.get(path)
    assert response.status_code == 200
    body = response.json()
    resources = body["resources"]
    for name in ("patients", "doctors", "appointments", "outcomes", "interactions"):
        assert resources[name] == f"http://testserver/api/v1/{name}/"
    assert body["patient_resources"]["notes"] == (
        "http://testserver/api/v1/patients/{patient_id}/notes/"
    )
    assert set(body["patient_resources"]) == {"interactions", "notes", "summaries"}
    assert resources["auth_token"] == "http://testserver/api/v1/auth/token/"
    assert body["docs"] == {
        "schema": "http://testserver/api/schema/",
        "swagger_ui": "http://testserver/api/docs/",
        "redoc": "http://testserver/api/redoc/",
    }
    for url in [*resources.values(), *body["docs"].values()]:
        # Every link leads somewhere real: the resource (401 without a token) or the docs.
        status = api_client.get(url.removeprefix("http://testserver")).status_code
        assert status in (200, 401, 405), (url, status)


def test_api_root_is_in_the_schema(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "get" in schema["paths"]["/api/v1/"]
