"""Every view declares who may call it; nothing relies on the project default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core.permissions import DenyAll

# Third-party views that are public by design (the API docs) or guarded by Django's own
# staff checks (the admin console).
PUBLIC_THIRD_PARTY = ("drf_spectacular.views",)
# Plain Django views outside /api/ with their own access rule.
NON_API_VIEWS = {"core.metrics_views.MetricsView": "allowed networks or METRICS_TOKEN"}
ADMIN_NAMESPACE = "admin"


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, Any, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback, namespace


def _declares_permissions(view_class: type[APIView]) -> bool:
    for klass in view_class.__mro__:
        if klass.__module__.startswith("rest_framework"):
            break
        if "permission_classes" in vars(klass) or "get_permissions" in vars(klass):
            return True
    return False


def test_every_api_view_declares_permission_classes() -> None:
    checked = 0
    for route, callback, namespace in _walk(get_resolver()):
        if namespace == ADMIN_NAMESPACE:
            continue
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert view_class is not None, f"{route}: not a class-based view"
        if view_class.__module__.startswith(PUBLIC_THIRD_PARTY):
            continue
        if f"{view_class.__module__}.{view_class.__qualname__}" in NON_API_VIEWS:
            continue
        assert issubclass(view_class, APIView), f"{route}: {view_class} is not a DRF view"
        assert _declares_permissions(view_class), (
            f"{route}: {view_class.__name__} relies on defaults"
        )
        permissions = vars(view_class).get("permission_classes") or []
        assert DenyAll not in permissions
        checked += 1
    assert checked >= 5  # the walk really found the API


def _api_routes() -> list[str]:
    client_paths = []
    for route, _callback, _namespace in _walk(get_resolver()):
        if not route.startswith("api/v1/") or "_boom" in route:
            continue
        path = route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
        # Fill every named group with a value of the right shape (UUID or outcome code).
        path = re.sub(
            r"\(\?P<(\w+)>[^)]*\)",
            lambda m: "healthy" if m.group(1) == "code" else "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
            path,
        )
        client_paths.append("/" + path)
    return sorted(set(client_paths))


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_anonymous_gets_401_everywhere_but_login(api_client: APIClient, method: str) -> None:
    routes = _api_routes()
    assert "/api/v1/patients/" in routes
    for path in routes:
        if path == "/api/v1/auth/token/" and method == "post":
            continue
        response = getattr(api_client, method)(path, {}, format="json")
        assert response.status_code in (401, 405), (method, path, response.status_code)
        if response.status_code == 405:
            # Even a wrong method on a protected route does not reveal more than 401 would.
            assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_docs_and_health_are_public(api_client: APIClient) -> None:
    for path in ("/health", "/health/ready", "/api/schema/", "/api/docs/", "/api/redoc/"):
        assert api_client.get(path).status_code == 200, path
