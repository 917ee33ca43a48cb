"""OpenAPI: the error document on every operation, and the bearer-token scheme."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.errors import ErrorCode


class FieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="Dotted path of the offending field.")
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `required`.")
    detail = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    """The single error shape of the API (see ``core.errors``)."""

    code = serializers.CharField(help_text="Stable machine-readable error code.")
    detail = serializers.CharField(help_text="Human-readable explanation.")
    errors = FieldErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="Per-field problems (validation only)."
    )
    request_id = serializers.CharField(allow_null=True, help_text="Quote it when reporting.")

    class Meta:
        ref_name = "Error"


_DESCRIPTIONS = {
    400: "Invalid input (see `errors`), a bad query parameter or a bad X-Simulation-Mode.",
    401: "No credentials or an invalid/expired token.",
    403: "The caller's role does not allow this operation.",
    404: "No such resource (or page).",
    409: "Conflicts with the current state (see `code`).",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    429: "Throttled; see Retry-After.",
    500: "Unexpected server error; the body carries a request id.",
    503: "A dependency is unavailable or a failure was simulated.",
}


# What a view's ``error_statuses`` says about one status: nothing (the default text), a
# sentence, or the codes it answers with, each with when (rendered after the default).
ErrorDoc = str | Mapping[ErrorCode, str] | None


def describe_codes(codes: Mapping[ErrorCode, str]) -> str:
    """The OpenAPI text for error codes: "`code`: when." for each, in order."""
    return " ".join(f"`{code}`: {when}" for code, when in codes.items())


def error_description(status: int, doc: ErrorDoc = None) -> str:
    if doc is None:
        return _DESCRIPTIONS[status]
    if isinstance(doc, str):
        return doc
    return f"{_DESCRIPTIONS[status]} {describe_codes(doc)}"


def error_response(status: int, doc: ErrorDoc = None, **kwargs: Any) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=error_description(status, doc), **kwargs)


class AutoSchema(SpectacularAutoSchema):
    """Adds the documented error responses to every operation.

    Views may list extra statuses in ``error_statuses``:
    ``{"action or method": {status: ErrorDoc}}`` with ``"*"`` for every operation, e.g.
    ``{"destroy": {409: {CoreErrorCode.HAS_DEPENDENTS: "clinical records refer to it."}}}``.
    ``core/tests/test_error_codes.py`` checks these codes against what the services raise.
    """

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        path = self.path or ""
        if not path.startswith("/api/"):
            return responses
        statuses: dict[int, ErrorDoc] = {400: None, 404: None, 500: None, 503: None}
        if self.get_auth():
            statuses.update({401: None, 403: None})
        extra: dict[str, dict[int, ErrorDoc]] = getattr(self.view, "error_statuses", {}) or {}
        action = getattr(self.view, "action", None) or self.method.lower()
        statuses.update(extra.get("*", {}))
        statuses.update(extra.get(action, {}))
        for status, description in sorted(statuses.items()):
            key = str(status)
            if key in responses:
                continue
            # Errors are JSON even where the success is not (the HTML summary page).
            responses[key] = self._get_response_for_code(
                error_response(status, description),
                key,
                media_types=["application/json"],
                direction=direction,
            )
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 (a scheme name, not a secret)
        )
        return scheme
