"""One error shape for every status from /api/."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from core.permissions import Role


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "detail", "errors", "request_id"}
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_400_validation_lists_each_field(provider_client: APIClient) -> None:
    body = assert_error(
        provider_client.post("/api/v1/patients/", {"first_name": ""}, format="json"),
        400,
        "validation_error",
    )
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields["first_name"] == "blank"
    assert fields["last_name"] == "required"
    assert fields["date_of_birth"] == "required"


def test_400_malformed_json(provider_client: APIClient) -> None:
    response = provider_client.generic(
        "POST", "/api/v1/patients/", '{"first_name": "Ann",', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
def test_401_without_credentials(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/patients/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_401_bad_token(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert_error(api_client.get("/api/v1/patients/"), 401, "authentication_failed")


def test_403_role_not_allowed(viewer_client: APIClient) -> None:
    response = viewer_client.post("/api/v1/patients/", {}, format="json")
    assert_error(response, 403, "permission_denied")


def test_404_unknown_id_unknown_route_and_invalid_uuid(viewer_client: APIClient) -> None:
    assert_error(
        viewer_client.get("/api/v1/patients/5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11/"),
        404,
        "not_found",
    )
    assert_error(viewer_client.get("/api/v1/patients/not-a-uuid/"), 404, "not_found")
    assert_error(viewer_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_405_method_not_allowed(viewer_client: APIClient) -> None:
    assert_error(
        viewer_client.put("/api/v1/auth/me/", {}, format="json"), 405, "method_not_allowed"
    )


def test_409_conflict(provider_client: APIClient) -> None:
    data = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "email": "a@b.org"}
    assert provider_client.post("/api/v1/patients/", data, format="json").status_code == 201
    assert_error(
        provider_client.post("/api/v1/patients/", data, format="json"), 409, "duplicate_email"
    )


def test_413_body_too_large(provider_client: APIClient, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = {"first_name": "x" * 2000, "last_name": "B", "date_of_birth": "1990-01-01"}
    assert_error(
        provider_client.post("/api/v1/patients/", big, format="json"), 413, "request_too_large"
    )


def test_415_unsupported_content_type(provider_client: APIClient) -> None:
    response = provider_client.generic(
        "POST", "/api/v1/patients/", "first_name=A", content_type="text/plain"
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_429_throttled_token_requests(api_client: APIClient, monkeypatch) -> None:
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "2/min"})
    for _ in range(2):
        api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json"
    )
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    cache.clear()


@pytest.mark.urls("core.tests.urls_boom")
@pytest.mark.django_db
def test_500_is_json_with_request_id_and_no_traceback(api_client: APIClient, caplog) -> None:
    response = api_client.get("/api/v1/_boom/", HTTP_X_REQUEST_ID="trace-me-123")
    body = assert_error(response, 500, "server_error")
    assert body["request_id"] == "trace-me-123"
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # The exception is logged for operators, tagged with the request id.
    assert any(r.request_id == "trace-me-123" and r.exc_info for r in caplog.records)


def test_503_simulated(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="error")
    assert_error(response, 503, "simulated_error")


def test_role_enum_order() -> None:
    assert Role.VIEWER < Role.PROVIDER < Role.ADMIN


@pytest.mark.urls("core.tests.urls_boom")
@pytest.mark.django_db
def test_500_logs_carry_no_query_string(api_client: APIClient, caplog) -> None:
    response = api_client.get("/api/v1/_boom/?search=Zebulon%20Quixote")
    assert response.status_code == 500
    django_records = [r for r in caplog.records if r.name == "django.request"]
    assert django_records  # Django did log the failure...
    for record in caplog.records:  # ...but nothing logged carries the searched name
        assert "Zebulon" not in record.getMessage()
        assert "Zebulon" not in repr(record.__dict__)
