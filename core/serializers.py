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
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(k) for k in data if k not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


def reject_nul(value: str) -> None:
    """NUL bytes cannot be stored by PostgreSQL and never belong in clinical text."""
    if "\x00" in value:
        raise serializers.ValidationError("NUL characters are not allowed.", code="invalid")
