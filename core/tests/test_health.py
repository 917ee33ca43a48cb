from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_liveness_needs_no_database_and_no_auth(
    api_client: APIClient, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):
        for path in ("/health", "/health/"):
            response = api_client.get(path)
            assert response.status_code == 200
            assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_ok_when_database_answers(api_client: APIClient) -> None:
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.redis
@pytest.mark.django_db
def test_readiness_checks_redis_when_configured(api_client: APIClient, settings) -> None:
    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"


@pytest.mark.django_db
def test_readiness_503_when_redis_is_unreachable(api_client: APIClient, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    response = api_client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("failed")


def test_readiness_503_when_database_is_unreachable() -> None:
    """A real process whose database cannot be reached (nothing listens on port 1)."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/health/ready'); print(r.status_code, r.json()['checks']['database'])"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/clinic",
        "DB_POOL": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, check = result.stdout.strip().splitlines()[-1].split(maxsplit=1)
    assert status == "503"
    assert check.startswith("failed")
