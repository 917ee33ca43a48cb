"""``GET /api/v1/``: a public index of the API's resources, read from the router."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_router import router

# Routes that are not viewsets of the router, with what they are for.
EXTRA_RESOURCES = {
    "auth_token": ("api:auth-token", "Exchange a username and password for a bearer token."),
    "auth_me": ("api:auth-me", "The authenticated user and their role."),
}
DOCS = {"schema": "schema", "swagger_ui": "swagger-ui", "redoc": "redoc"}


def _link(request: Request, url_name: str) -> str:
    # Routes match with or without the slash; reverse() drops it, the docs show it.
    url = reverse(url_name)
    return request.build_absolute_uri(url if url.endswith("/") else f"{url}/")


class ApiIndexView(APIView):
    """Public: lists what the API offers; reading any resource still needs a token."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(
        summary="Index of the API's resources",
        description=(
            "Links to every top-level collection, URL templates of the collections kept "
            "per patient (`/patients/{patient_id}/notes/`), and the API docs. "
            "Public; the resources themselves need a bearer token."
        ),
        tags=["index"],
        responses=inline_serializer(
            "ApiIndex",
            {
                "resources": serializers.DictField(
                    child=serializers.URLField(), help_text="Collection name -> absolute URL."
                ),
                "patient_resources": serializers.DictField(
                    child=serializers.CharField(),
                    help_text="Collections of one patient -> URL template with `{patient_id}`.",
                ),
                "docs": serializers.DictField(
                    child=serializers.URLField(),
                    help_text="`schema` (OpenAPI 3), `swagger_ui`, `redoc`.",
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        resources: dict[str, str] = {}
        per_patient: dict[str, str] = {}
        for prefix, _viewset, basename in router.registry:
            if "(" in prefix:  # nested under a patient: a URL template
                name = prefix.rsplit("/", 1)[-1]
                base = request.build_absolute_uri("/api/v1/patients/")
                per_patient[name] = f"{base}{{patient_id}}/{name}/"
                continue
            try:
                resources[prefix] = _link(request, f"api:{basename}-list")
            except NoReverseMatch:  # no list operation (notes are listed per patient)
                continue
        for name, (url_name, _purpose) in EXTRA_RESOURCES.items():
            resources[name] = _link(request, url_name)
        docs = {name: _link(request, url_name) for name, url_name in DOCS.items()}
        return Response({"resources": resources, "patient_resources": per_patient, "docs": docs})
