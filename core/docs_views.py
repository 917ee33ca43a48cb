"""The OpenAPI schema, Swagger UI and ReDoc, as drf-spectacular serves them, with two
changes: access follows ``API_DOCS_PUBLIC`` (core.permissions.ApiDocsAccess), and an
error (e.g. 401 when the docs are private) is JSON in the API's error shape instead of
being rendered as YAML or HTML."""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from core.permissions import ApiDocsAccess


class _JsonErrors:
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class SchemaView(_JsonErrors, SpectacularAPIView):
    permission_classes = [ApiDocsAccess]


class SwaggerView(_JsonErrors, SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is a separate file (no inline script under the CSP)."""

    permission_classes = [ApiDocsAccess]


class RedocView(_JsonErrors, SpectacularRedocView):
    permission_classes = [ApiDocsAccess]
