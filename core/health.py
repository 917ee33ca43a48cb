"""Liveness and readiness checks."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import connections
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import PublicEndpoint


def check_database() -> str | None:
    """None when every configured database answers ``SELECT 1``, else the error kind."""
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any failure means "not ready"
            return type(exc).__name__
    return None


def check_redis() -> str | None:
    """None when Redis (cache and/or broker) answers PING or is not configured."""
    urls = {
        u for u in (settings.REDIS_URL, settings.CELERY_BROKER_URL) if u and u.startswith("redis")
    }
    for url in urls:
        try:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS,
                socket_timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS,
            )
            client.ping()
        except Exception as exc:
            return type(exc).__name__
    return None


_Live = inline_serializer("Liveness", {"status": serializers.CharField()})
_Ready = inline_serializer(
    "Readiness",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


class LivenessView(APIView):
    """``GET /health``: the process is up. No database, no auth."""

    authentication_classes: list[Any] = []
    permission_classes = [PublicEndpoint]

    @extend_schema(tags=["health"], responses={200: _Live}, operation_id="health_live")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessView(APIView):
    """``GET /health/ready``: 200 when the database (and Redis, if configured) answer."""

    authentication_classes: list[Any] = []
    permission_classes = [PublicEndpoint]

    @extend_schema(
        tags=["health"], responses={200: _Ready, 503: _Ready}, operation_id="health_ready"
    )
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        db_error = check_database()
        checks["database"] = "ok" if db_error is None else f"failed: {db_error}"
        if settings.REDIS_URL or settings.CELERY_BROKER_URL:
            redis_error = check_redis()
            checks["redis"] = "ok" if redis_error is None else f"failed: {redis_error}"
        ok = all(v == "ok" for v in checks.values())
        return Response(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
        )
