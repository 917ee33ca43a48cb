"""Request ids, the access log line, and the chaos header."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from core import middleware


def _access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "clinic.access"]


@pytest.mark.django_db
def test_valid_incoming_request_id_is_echoed(api_client: APIClient) -> None:
    response = api_client.get("/health", HTTP_X_REQUEST_ID="abc-123.XYZ_9")
    assert response["X-Request-ID"] == "abc-123.XYZ_9"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["has space", "x" * 65, "semi;colon", "<script>"])
def test_invalid_request_id_is_replaced(api_client: APIClient, bad: str) -> None:
    response = api_client.get("/health", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_one_access_line_per_request_with_route_pattern_not_path(provider_client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="clinic.access")
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Zebulon", "last_name": "Quixote", "date_of_birth": "1970-05-06"},
        format="json",
    ).json()
    caplog.clear()
    response = provider_client.get(
        f"/api/v1/patients/{created['id']}/?search=Quixote", HTTP_X_REQUEST_ID="req-42"
    )
    assert response.status_code == 200
    records = _access_records(caplog)
    assert len(records) == 1
    record: Any = records[0]
    assert record.request_id == "req-42"
    assert record.method == "GET"
    assert record.route == "/api/v1/patients/<pk>/"
    assert record.status == 200
    assert record.duration_ms >= 0
    assert record.user_id == provider_client.user.pk
    assert created["id"] not in record.getMessage()


@pytest.mark.django_db
def test_logs_never_contain_patient_data(provider_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    provider_client.post(
        "/api/v1/patients/",
        {
            "first_name": "Zebulon",
            "last_name": "Quixote",
            "date_of_birth": "1970-05-06",
            "email": "zq@example.org",
        },
        format="json",
    )
    provider_client.get("/api/v1/patients/?search=Zebulon%20Quixote")
    provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Zebulon", "last_name": "Quixote", "date_of_birth": "2999-01-01"},
        format="json",
    )
    text = caplog.text + " ".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    for secret in ("Zebulon", "Quixote", "zq@example.org", "1970-05-06"):
        assert secret not in text


@pytest.mark.django_db
def test_chaos_error_mode(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="error")
    assert response.status_code == 503
    assert response.json()["code"] == "simulated_error"


@pytest.mark.django_db
def test_chaos_latency_mode_delays_then_serves(
    viewer_client: APIClient, monkeypatch, settings
) -> None:
    settings.CHAOS_LATENCY_SECONDS = 2.5
    delays: list[float] = []
    monkeypatch.setattr(middleware.time, "sleep", delays.append)
    response = viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="latency")
    assert response.status_code == 200
    assert delays == [2.5]


@pytest.mark.django_db
def test_chaos_unknown_mode_is_400(viewer_client: APIClient) -> None:
    response = viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="explode")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_simulation_mode"


@pytest.mark.django_db
def test_chaos_header_ignored_when_disabled(viewer_client: APIClient, settings) -> None:
    settings.CHAOS_ENABLED = False
    assert viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="error").status_code == 200
    assert viewer_client.get("/api/v1/patients/", HTTP_X_SIMULATION_MODE="bogus").status_code == 200


@pytest.mark.django_db
def test_chaos_does_not_touch_health(api_client: APIClient) -> None:
    assert api_client.get("/health", HTTP_X_SIMULATION_MODE="error").status_code == 200


def test_production_logs_are_json_lines_without_patient_data() -> None:
    """A real process on production settings: the access line is one JSON object."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from django.test import Client; "
        "Client().get('/health?search=Zebulon', HTTP_X_REQUEST_ID='json-log-1', secure=True)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LOG_FORMAT")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 64,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/unused",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    access = [entry for entry in lines if entry.get("logger") == "clinic.access"]
    assert len(access) == 1
    entry = access[0]
    assert entry["level"] == "INFO"
    assert entry["request_id"] == "json-log-1"
    assert entry["route"] == "/health/"
    assert entry["status"] == 200
    assert "Zebulon" not in result.stdout
