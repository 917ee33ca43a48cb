"""The real URLs plus an API view that fails, to test the 500 error shape."""

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns
from core.permissions import PublicEndpoint


class BoomView(APIView):
    permission_classes = [PublicEndpoint]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internal detail")


urlpatterns: list[Any] = [path("api/v1/_boom/", BoomView.as_view()), *real_urlpatterns]
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
