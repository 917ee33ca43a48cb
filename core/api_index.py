"""Every unknown ``/api/`` path: a JSON 404.

Unknown paths are answered by a catch-all route (the last URL pattern) rather than by
Django's ``handler404``, because Django ignores ``handler404`` when ``DEBUG`` is on and
shows its HTML debug page instead. A client never sees HTML from ``/api/``. (The index
at ``/api/v1/`` is ``config.api_index``: it reads the router.)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class ApiNotFoundView(APIView):
    """Every method on an unknown ``/api/`` path: 404 ``not_found`` in the error shape."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    schema = None  # not an operation

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        raise exceptions.NotFound()

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound()
