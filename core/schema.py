"""OpenAPI: the error document on every operation, and the bearer-token scheme."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
    503: "A dependency is down (`database_unavailable`, `service_unavailable`, ...) or a "
    "failure was simulated; nothing was changed.",
}


def error_response(status: int, description: str | None = None) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description or _DESCRIPTIONS[status])


class AutoSchema(SpectacularAutoSchema):
    """Adds the documented error responses to every operation.

    Views may list extra statuses in ``error_statuses`` (e.g. ``{409: "..."}``).
    """

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        path = self.path or ""
        if not path.startswith("/api/"):
            return responses
        statuses: dict[int, str | None] = {400: None, 404: None, 500: None, 503: None}
        if self.get_auth():
            statuses.update({401: None, 403: None})
        # {"action or method": {status: description}}, "*" for every operation.
        extra: dict[str, dict[int, str | None]] = getattr(self.view, "error_statuses", {}) or {}
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
