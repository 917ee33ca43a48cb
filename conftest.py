"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import token_issue, user_upsert
from core.permissions import Role
from core.tests.clients import UserClient


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests on other databases, and Redis tests without Redis."""
    import os

    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
            )
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL=redis://...)"))


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: Role = Role.PROVIDER, username: str | None = None, **kwargs: Any) -> User:
        name = username or f"{role.name.lower()}-user"
        return user_upsert(
            username=name, role=role, password=kwargs.pop("password", "pw-for-tests-1"), **kwargs
        )

    return make


@pytest.fixture
def client_for(make_user: Callable[..., User]) -> Callable[[Role], UserClient]:
    """An API client holding a real bearer token for a user in ``role``."""

    def make(role: Role) -> UserClient:
        user = make_user(role)
        token, _ = token_issue(user=user)
        return UserClient(user, token)

    return make


@pytest.fixture
def viewer_client(client_for: Callable[[Role], UserClient]) -> UserClient:
    return client_for(Role.VIEWER)


@pytest.fixture
def provider_client(client_for: Callable[[Role], UserClient]) -> UserClient:
    return client_for(Role.PROVIDER)


@pytest.fixture
def admin_client_api(client_for: Callable[[Role], UserClient]) -> UserClient:
    return client_for(Role.ADMIN)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached values never leak from one test into another."""
    from django.core.cache import cache

    cache.clear()


# Rows that data migrations install and the application relies on. A transactional test
# empties every table when it ends, so the next one starts without them.
REFERENCE_DATA = (
    ("accounts.migrations.0001_roles", "create_groups"),
    ("accounts.migrations.0002_role_model_permissions", "grant"),
    ("patients.migrations.0002_search_index_and_sequence", "create_sequence_row"),
    ("outcomes.migrations.0002_reference_outcomes", "install"),
)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Re-install the migrations' reference data before each transactional test, with the
    migrations' own functions."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps as django_apps

    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(django_apps, None)
