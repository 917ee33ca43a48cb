"""Helpers for the import and export tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.permissions import Role

Upload = Callable[..., Any]


@pytest.fixture
def admin_api(client_for: Callable[[Role], APIClient]) -> APIClient:
    return client_for(Role.ADMIN)


def post_file(
    client: APIClient, url: str, content: bytes | str, name: str = "upload.csv", **options: Any
) -> Any:
    data = content.encode() if isinstance(content, str) else content
    body: dict[str, Any] = {"file": SimpleUploadedFile(name, data)}
    body.update({k: str(v).lower() if isinstance(v, bool) else v for k, v in options.items()})
    return client.post(url, body, format="multipart")


@pytest.fixture
def import_patients(admin_api: APIClient) -> Upload:
    def upload(content: bytes | str, name: str = "patients.csv", **options: Any) -> Any:
        return post_file(admin_api, "/api/v1/patients/import/", content, name, **options)

    return upload


@pytest.fixture
def import_interactions(admin_api: APIClient) -> Upload:
    def upload(content: bytes | str, name: str = "interactions.csv", **options: Any) -> Any:
        return post_file(admin_api, "/api/v1/interactions/import/", content, name, **options)

    return upload


def streamed(response: Any) -> bytes:
    assert response.streaming, "an export is a streamed response"
    return b"".join(response.streaming_content)
