"""One error shape for the whole API.

Every error from ``/api/`` is JSON::

    {"code": "validation_error", "detail": "Invalid input.",
     "errors": [{"field": "email", "code": "invalid", "detail": "Enter a valid email address."}],
     "request_id": "4f2c..."}

``code`` is stable and machine-readable; ``detail`` is for humans; ``errors`` lists
per-field problems (empty for non-validation errors). Conflicts may add context members
(for example ``conflicting_appointment_id``).

The codes are ``StrEnum`` members: core's generic ones here (``CoreErrorCode``), each
app's in ``<app>/errors.py``. Raise sites and the OpenAPI text of every operation's error
responses both use them (see ``core.schema`` and ``core/tests/test_error_codes.py``).
Conflicts found by the database are mapped to codes by the violated constraint's name
(``conflict_from_constraint``); a blocked delete is always ``has_dependents``
(``conflict_from_protected``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import psycopg
import redis
from django import db
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.db.models import Model, ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.db.failures import is_connection_failure
from core.request_context import current_request_id

logger = logging.getLogger("clinic.errors")


class ErrorCode(StrEnum):
    """Base of every error-code enum (``CoreErrorCode`` and one per app)."""


class CoreErrorCode(ErrorCode):
    """Codes any operation may answer, and the cross-cutting ones."""

    BAD_REQUEST = "bad_request"
    VALIDATION_ERROR = "validation_error"
    SERVER_ERROR = "server_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    REQUEST_TOO_LARGE = "request_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    SIMULATED_ERROR = "simulated_error"
    INVALID_SIMULATION_MODE = "invalid_simulation_mode"
    CONFLICT = "conflict"
    # A delete refused because other records point at this one (PROTECT foreign keys);
    # the body carries ``dependents: {resource: count}``.
    HAS_DEPENDENTS = "has_dependents"
    # Field codes (inside ``errors``) shared by several apps.
    INVALID = "invalid"
    BLANK = "blank"
    REQUIRED = "required"
    FUTURE = "future"
    NAIVE = "naive"
    INVALID_PHONE = "invalid_phone"
    UNKNOWN_FIELD = "unknown_field"
    READ_ONLY = "read_only"
    # A request body refused by core.parsers (and NUL in a query parameter).
    PARSE_ERROR = "parse_error"
    DUPLICATE_KEY = "duplicate_key"
    NULL_CHARACTERS_NOT_ALLOWED = "null_characters_not_allowed"
    # A clinical time before the patient's birth day (core.validators).
    BEFORE_BIRTH = "before_birth"


class ApiError(exceptions.APIException):
    """An API error with a stable code and optional context members."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code: str = CoreErrorCode.BAD_REQUEST
    default_detail = "Bad request."

    def __init__(
        self, detail: str | None = None, *, code: ErrorCode | None = None, **context: Any
    ) -> None:
        super().__init__(detail=detail or self.default_detail, code=code or self.default_code)
        self.error_code = code or self.default_code
        self.context = context


class Conflict(ApiError):
    """409: the request conflicts with the current state of a resource."""

    status_code = status.HTTP_409_CONFLICT
    default_code = CoreErrorCode.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = CoreErrorCode.REQUEST_TOO_LARGE
    default_detail = "The request body is too large."


class UnsupportedMediaType(ApiError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = CoreErrorCode.UNSUPPORTED_MEDIA_TYPE
    default_detail = "Unsupported media type."


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code: str = CoreErrorCode.SERVICE_UNAVAILABLE
    default_detail = "A service this request depends on is unavailable. Try again later."


class DatabaseUnavailable(ServiceUnavailable):
    default_code = CoreErrorCode.DATABASE_UNAVAILABLE
    default_detail = "The database is unavailable. Nothing was changed; try again shortly."


def is_database_unavailable(exc: BaseException) -> bool:
    """A database error that means "cannot reach the database", not "bad statement".

    A failed connection (refused, timed out, no pooled connection within the timeout) or
    a connection lost mid-request carries no SQLSTATE or a connection-class one; a
    constraint violation, deadlock or syntax error has its own and stays what it is.
    """
    if not isinstance(exc, (db.OperationalError, db.InterfaceError)):
        return False
    cause = exc.__cause__
    if isinstance(cause, psycopg.Error):
        return is_connection_failure(cause)
    return getattr(cause, "sqlstate", None) is None  # SQLite's errors carry no SQLSTATE


def is_redis_unavailable(exc: BaseException) -> bool:
    """Redis (cache or broker) cannot be reached: refused, timed out, connection lost."""
    return isinstance(
        exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, BrokerError)
    )


def dependency_error(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for an exception that means a dependency is down, else None."""
    if is_database_unavailable(exc):
        logger.warning("Database unavailable: %s", type(exc.__cause__ or exc).__name__)
        return DatabaseUnavailable()
    if is_redis_unavailable(exc):
        logger.warning("Redis unavailable: %s", type(exc).__name__)
        return ServiceUnavailable(
            "A service this request depends on (Redis) is unavailable. Nothing was changed; "
            "try again shortly."
        )
    return None


# --------------------------------------------------------------------------- conflicts

# SQLite's messages: "UNIQUE constraint failed: index 'name'" (an expression index),
# "UNIQUE constraint failed: table.a, table.b" (columns), "CHECK constraint failed: name".
_SQLITE_FAILED = re.compile(
    r"^(?:UNIQUE|CHECK) constraint failed: (?:index '(?P<index>[^']+)'|(?P<rest>.+))$"
)


def _constraints(table: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        found: dict[str, Any] = connection.introspection.get_constraints(cursor, table)
    return found


def violated_constraint(exc: IntegrityError) -> set[str]:
    """The names the constraint ``exc`` reports answers to: its name and, for a unique
    column (a ``unique=True`` field, a one-to-one), ``"table.column"``.

    PostgreSQL (psycopg) names the constraint in ``diag.constraint_name``. SQLite names an
    expression index or a CHECK, or lists the columns of a unique index, which are matched
    to the table's constraints. Call after the failed savepoint was rolled back.
    """
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        table = getattr(diag, "table_name", None) or ""
        columns = _constraints(table).get(name, {}).get("columns") or [] if table else []
        return {name} | ({f"{table}.{columns[0]}"} if len(columns) == 1 else set())
    if connection.vendor != "sqlite":
        return set()
    match = _SQLITE_FAILED.match(str(exc.__cause__ or exc).strip())
    if match is None:
        return set()
    if match["index"]:
        return {match["index"]}
    rest = match["rest"].strip()
    qualified = [part.strip().split(".", 1) for part in rest.split(",")]
    if not all(len(part) == 2 for part in qualified):
        return {rest}  # a CHECK constraint's name
    table = qualified[0][0]
    columns = [column for _, column in qualified]
    names = {
        constraint
        for constraint, info in _constraints(table).items()
        if info.get("unique") and list(info.get("columns") or []) == columns
    }
    if len(columns) == 1:
        names.add(f"{table}.{columns[0]}")
    return names


def conflict_from_constraint(exc: IntegrityError, conflicts: Mapping[str, Conflict]) -> Conflict:
    """The 409 for the violated constraint, looked up by its name (see
    ``violated_constraint``): ``raise conflict_from_constraint(exc, {...}) from exc``.
    A constraint ``conflicts`` does not name is no conflict: ``exc`` is re-raised."""
    for name in violated_constraint(exc):
        if name in conflicts:
            return conflicts[name]
    raise exc


def _resource(model: type[Model]) -> str:
    return str(model._meta.verbose_name_plural).replace(" ", "_")


def conflict_from_protected(
    exc: ProtectedError | RestrictedError, *, what: str = "The record", hint: str = ""
) -> Conflict:
    """409 ``has_dependents`` naming who depends on the record, from the PROTECT (or
    RESTRICT) foreign keys Django followed: ``dependents: {resource: count}``."""
    objects: Iterable[Model] = (
        exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    )
    per_model = Counter(type(obj) for obj in objects)
    models = sorted(per_model, key=_resource)
    dependents = {_resource(model): per_model[model] for model in models}
    named = ", ".join(
        f"{n} {m._meta.verbose_name if n == 1 else m._meta.verbose_name_plural}"
        for m, n in ((m, per_model[m]) for m in models)
    )
    detail = f"{what} cannot be deleted while other records refer to it"
    detail += f" ({named})." if named else "."
    return Conflict(
        f"{detail} {hint}".strip(), code=CoreErrorCode.HAS_DEPENDENTS, dependents=dependents
    )


# --------------------------------------------------------------------------- documents


def error_body(
    code: str,
    detail: str,
    errors: Sequence[Mapping[str, str]] = (),
    **context: Any,
) -> dict[str, Any]:
    """Build the error document (the single place that knows its shape)."""
    body: dict[str, Any] = {
        "code": code,
        "detail": detail,
        "errors": list(errors),
        "request_id": current_request_id(),
    }
    body.update(context)
    return body


def flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ``{field: [ErrorDetail]}`` into ``[{field, code, detail}]``."""
    items: list[dict[str, str]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = str(key)
            field = f"{prefix}.{name}" if prefix else name
            items.extend(flatten_validation_errors(value, field))
    elif isinstance(detail, list):
        if detail and all(isinstance(d, (Mapping, list)) for d in detail):
            for index, value in enumerate(detail):
                items.extend(
                    flatten_validation_errors(value, f"{prefix}.{index}" if prefix else str(index))
                )
        else:
            for value in detail:
                items.extend(flatten_validation_errors(value, prefix))
    else:
        items.append(
            {
                "field": prefix or "non_field_errors",
                "code": str(getattr(detail, "code", None) or "invalid"),
                "detail": str(detail),
            }
        )
    return items


def from_django_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """Report a model's ``full_clean()`` errors as a DRF 400, field by field."""
    if hasattr(exc, "error_dict"):
        detail: dict[str, list[exceptions.ErrorDetail]] = {}
        for field, errors in exc.error_dict.items():
            name = "non_field_errors" if field == NON_FIELD_ERRORS else field
            detail[name] = [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors
                for message in error.messages
            ]
        return exceptions.ValidationError(detail)
    return exceptions.ValidationError(
        {
            "non_field_errors": [
                exceptions.ErrorDetail(m, code=exc.code or "invalid") for m in exc.messages
            ]
        }
    )


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code if isinstance(exc.default_code, str) else "error"


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF exception handler producing the error document for every status."""
    if isinstance(exc, DjangoValidationError):
        exc = from_django_validation_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request is malformed.")
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        exc = conflict_from_protected(exc)
    elif (unavailable := dependency_error(exc)) is not None:
        exc = unavailable

    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error while serving an API request")
        set_rollback()
        return Response(
            error_body(
                CoreErrorCode.SERVER_ERROR,
                "An unexpected error occurred. Quote the request id when reporting it.",
            ),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers: dict[str, str] = {}
    auth_header, wait = getattr(exc, "auth_header", None), getattr(exc, "wait", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if wait:
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            CoreErrorCode.VALIDATION_ERROR, "Invalid input.", flatten_validation_errors(exc.detail)
        )
    elif isinstance(exc, ApiError):
        body = error_body(exc.error_code, str(exc.detail), **exc.context)
    else:
        body = error_body(_code_of(exc), str(exc.detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def json_error_response(status_code: int, code: str, detail: str) -> JsonResponse:
    """An error document outside DRF (middleware, Django's error handlers)."""
    return JsonResponse(error_body(code, detail), status=status_code)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON for API paths; Django's page for the admin and the rest."""
    if _is_api(request):
        return json_error_response(404, CoreErrorCode.NOT_FOUND, "Not found.")
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Errors raised outside DRF's views (middleware, Django's own views). Django calls
    this while handling the exception, so ``sys.exc_info()`` still names it: a dependency
    that is down is a 503 on every path, in the error shape under ``/api/`` (so is a 503
    raised where no DRF handler runs, e.g. an admin sign-in whose audit event could not be
    written)."""
    exc = sys.exc_info()[1]
    unavailable = (
        exc
        if isinstance(exc, ServiceUnavailable)
        else (dependency_error(exc) if exc is not None else None)
    )
    if unavailable is not None:
        if _is_api(request):
            return json_error_response(503, unavailable.error_code, str(unavailable.detail))
        return HttpResponse(
            str(unavailable.detail), status=503, content_type="text/plain; charset=utf-8"
        )
    if _is_api(request):
        return json_error_response(
            500,
            CoreErrorCode.SERVER_ERROR,
            "An unexpected error occurred. Quote the request id when reporting it.",
        )
    return defaults.server_error(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return json_error_response(
                413, CoreErrorCode.REQUEST_TOO_LARGE, "The request body is too large."
            )
        return json_error_response(400, CoreErrorCode.BAD_REQUEST, "Bad request.")
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return json_error_response(
            403, CoreErrorCode.PERMISSION_DENIED, "You do not have permission."
        )
    return defaults.permission_denied(request, exception)
