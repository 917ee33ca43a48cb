"""The real URLs plus views whose dependency is down, to test the 503s (core.errors)."""

from typing import Any

import psycopg
import redis
from django import db
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns
from core.permissions import PublicEndpoint


def unreachable_database() -> None:
    """What Django raises when PostgreSQL refuses connections: its OperationalError,
    caused by psycopg's (a real refused connection to a port where nothing listens)."""
    try:
        psycopg.connect("host=127.0.0.1 port=1 connect_timeout=1")
    except psycopg.OperationalError as exc:
        raise db.OperationalError(str(exc)) from exc


class DatabaseDownView(APIView):
    permission_classes = [PublicEndpoint]

    def get(self, request: Request) -> Response:
        unreachable_database()
        return Response({})


class RedisDownView(APIView):
    permission_classes = [PublicEndpoint]

    def get(self, request: Request) -> Response:
        redis.Redis(port=1, socket_connect_timeout=1).ping()
        return Response({})


def plain_view_database_down(request: HttpRequest) -> HttpResponse:
    unreachable_database()
    return HttpResponse("")


urlpatterns: list[Any] = [
    path("api/v1/_db_down/", DatabaseDownView.as_view()),
    path("api/v1/_redis_down/", RedisDownView.as_view()),
    path("api/v1/_plain_db_down/", plain_view_database_down),
    *real_urlpatterns,
]
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
