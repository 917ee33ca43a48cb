"""A dependency that is down is a 503 with its own code, never a 500 (core.errors)."""

from __future__ import annotations

import psycopg
import pytest
from django import db
from rest_framework.test import APIClient

from core.errors import is_database_unavailable
from core.tests.urls_down import unreachable_database


@pytest.mark.urls("core.tests.urls_down")
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/_db_down/", "database_unavailable"),
        ("/api/v1/_redis_down/", "service_unavailable"),
        ("/api/v1/_plain_db_down/", "database_unavailable"),  # outside DRF: handler500
    ],
)
def test_a_dependency_that_is_down_is_a_503_in_the_error_shape(
    api_client: APIClient, caplog: pytest.LogCaptureFixture, path: str, code: str
) -> None:
    api_client.raise_request_exception = False
    response = api_client.get(path, HTTP_X_REQUEST_ID="down-1")

    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["request_id"]) == (code, "down-1")
    assert "Traceback" not in response.content.decode()


def test_only_connection_failures_count_as_the_database_being_down() -> None:
    with pytest.raises(db.OperationalError) as refused:
        unreachable_database()
    assert is_database_unavailable(refused.value)

    def wrapped(cause: Exception) -> db.Error:
        error = db.OperationalError(str(cause))
        error.__cause__ = cause
        return error

    assert is_database_unavailable(wrapped(psycopg.errors.AdminShutdown("terminating")))
    assert not is_database_unavailable(wrapped(psycopg.errors.DeadlockDetected("deadlock")))
    assert not is_database_unavailable(db.IntegrityError("duplicate key"))
