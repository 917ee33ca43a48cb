"""Request id + access log, read-your-own-writes, and the chaos-testing header."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from core import metrics
from core.client_ip import client_ip
from core.db import router
from core.errors import CoreErrorCode, error_body, json_error_response
from core.request_context import request_id_var

access_logger = logging.getLogger("clinic.access")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_request_id(request: HttpRequest) -> str:
    raw = request.headers.get(REQUEST_ID_HEADER, "")
    if _VALID_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def _route_label(pattern: str) -> str:
    """``^patients/(?P<pk>[...])/?$`` -> ``/patients/<pk>/``: readable, no identifiers."""
    label = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern)
    label = label.replace("^", "").replace("/?$", "/").replace("$", "").replace("/?", "/")
    label = label.replace("\\.", ".")
    return "/" + label.lstrip("/")


class RequestIdMiddleware:
    """Tags each request with an id and writes one access-log line for it.

    The line carries the request id, method, the *route pattern* (for example
    ``api/v1/patients/<uuid:pk>/``, never the raw path), status, duration and user id.
    Query strings and bodies are never logged: they can carry patient data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _incoming_request_id(request)
        token = request_id_var.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            match = getattr(request, "resolver_match", None)
            route = _route_label(match.route) if match and match.route else "<unmatched>"
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            # DRF authenticates inside the view; its user is on the response's renderer
            # context when the view ran. `_user`, not `user`: if authentication failed
            # (the database is down, say), `user` would run it again.
            drf_request = getattr(response, "renderer_context", {}) or {}
            drf_user = getattr(drf_request.get("request"), "_user", None)
            if user_id is None and drf_user is not None and drf_user.is_authenticated:
                user_id = drf_user.pk
            access_logger.info(
                "%s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                duration_ms,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user_id": user_id,
                    # The real client (core.client_ip), never a forged X-Forwarded-For.
                    "client_ip": client_ip(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class MetricsMiddleware:
    """Request counts, latency and database queries per route pattern, for /metrics."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(count))
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = _route_label(match.route) if match and match.route else "<unmatched>"
        metrics.http_requests.labels(
            route=route, method=request.method, status=str(response.status_code)
        ).inc()
        metrics.http_latency.labels(route=route, method=request.method).observe(
            time.perf_counter() - started
        )
        if queries:
            metrics.db_queries.labels(route=route).inc(queries)
        return response


class NoStoreApiMiddleware:
    """``Cache-Control: no-store`` on every ``/api/v1/`` response.

    API answers carry patient data (or errors about it); no browser, proxy or CDN may
    keep a copy. A view that sets its own ``Cache-Control`` keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/v1/") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
            response.setdefault("Pragma", "no-cache")
        return response


SESSION_STARTED_KEY = "_clinic_session_started"
SESSION_SEEN_KEY = "_clinic_session_seen"
# Last-activity stamps are written at most this often (seconds): a session write on every
# admin click would be a database write per request for no gain in precision.
SESSION_SEEN_RESOLUTION = 60


class ReadYourWritesMiddleware:
    """After a successful write (an unsafe method answered below 400) by a signed-in user,
    that user's reads stay on the primary for ``DATABASE_REPLICA_STICKY_SECONDS``
    (core/db/router.py). Nothing to do without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
            and response.status_code < 400
            and router.replica_configured()
        ):
            # DRF puts the token's user on the Django request once it authenticates.
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                router.note_write(user.pk)
        return response


class SessionTimeoutMiddleware:
    """Ends a signed-in session after ``SESSION_IDLE_MINUTES`` without a request, and in
    any case ``SESSION_MAX_HOURS`` after sign-in. The next request is then anonymous: the
    admin asks to sign in again, the API answers 401. Bearer tokens have their own expiry
    (``API_TOKEN_TTL_HOURS``) and are not affected."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.contrib.auth import logout

        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            started = session.get(SESSION_STARTED_KEY)
            seen = session.get(SESSION_SEEN_KEY)
            idle_limit = settings.SESSION_IDLE_MINUTES * 60
            max_age = settings.SESSION_MAX_HOURS * 3600
            if (seen is not None and now - seen > idle_limit) or (
                started is not None and now - started > max_age
            ):
                logout(request)
            else:
                if started is None:
                    session[SESSION_STARTED_KEY] = now
                if seen is None or now - seen >= SESSION_SEEN_RESOLUTION:
                    session[SESSION_SEEN_KEY] = now
        return self.get_response(request)


class RefuseNulQueryMiddleware:
    """A NUL character in any query parameter of an ``/api/`` request is a 400.

    The same field error the JSON parser reports for a body (``core.parsers``): NUL
    never belongs in a filter, and PostgreSQL cannot compare text holding one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and "%00" in request.META.get("QUERY_STRING", ""):
            fields = sorted(
                key.replace("\x00", "\\u0000")
                for key, values in request.GET.lists()
                if "\x00" in key or any("\x00" in value for value in values)
            )
            if fields:
                errors = [
                    {
                        "field": field,
                        "code": CoreErrorCode.NULL_CHARACTERS_NOT_ALLOWED,
                        "detail": "NUL characters are not allowed.",
                    }
                    for field in fields
                ]
                return JsonResponse(
                    error_body(CoreErrorCode.VALIDATION_ERROR, "Invalid input.", errors), status=400
                )
        return self.get_response(request)


SIMULATION_HEADER = "X-Simulation-Mode"


class ChaosMiddleware:
    """Fault injection for client developers, on ``/api/`` routes only.

    ``X-Simulation-Mode: error`` answers 503 in the error shape; ``latency`` waits
    ``CHAOS_LATENCY_SECONDS`` and then serves the request normally; any other value is a
    400. Inactive (header ignored) unless ``CHAOS_ENABLED`` is true: true by default in
    local, always false in production.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        mode = request.headers.get(SIMULATION_HEADER)
        if mode is None or not settings.CHAOS_ENABLED or not request.path.startswith("/api/"):
            return self.get_response(request)
        mode = mode.strip().lower()
        if mode == "error":
            return json_error_response(
                503,
                CoreErrorCode.SIMULATED_ERROR,
                "Simulated failure requested by X-Simulation-Mode.",
            )
        if mode == "latency":
            time.sleep(settings.CHAOS_LATENCY_SECONDS)
            return self.get_response(request)
        return json_error_response(
            400,
            CoreErrorCode.INVALID_SIMULATION_MODE,
            "X-Simulation-Mode must be 'error' or 'latency'.",
        )
