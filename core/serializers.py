"""Serializer helpers shared by every app."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictFieldsMixin:
    """Rejects unknown input fields with a 400 instead of silently dropping them."""

    initial_data: Any
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            problems: dict[str, list[serializers.ErrorDetail]] = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    problems[str(key)] = [
                        serializers.ErrorDetail("Unknown field.", code="unknown_field")
                    ]
                elif field.read_only:
                    problems[str(key)] = [
                        serializers.ErrorDetail("This field is read-only.", code="read_only")
                    ]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)  # type: ignore[misc]


def reject_nul(value: str) -> None:
    """NUL bytes cannot be stored by PostgreSQL and never belong in clinical text."""
    if "\x00" in value:
        raise serializers.ValidationError("NUL characters are not allowed.", code="invalid")
