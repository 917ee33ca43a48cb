"""Serializer helpers shared by every app."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.errors import CoreErrorCode

_DATETIME_FIELD = serializers.DateTimeField()


def current_zone() -> datetime.tzinfo:
    """The zone DRF renders datetimes in (the active one, ``TIME_ZONE`` by default);
    look it up once per object, not once per field (it is a thread-local read)."""
    return timezone.get_current_timezone()


def datetime_out(value: datetime.datetime | None, zone: datetime.tzinfo) -> str | None:
    """What ``serializers.DateTimeField().to_representation`` returns, for the output
    serializers that write their fields out: ISO 8601 in ``zone`` (``current_zone()``),
    ``Z`` for UTC. Anything but an aware datetime takes DRF's own path."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
        return _DATETIME_FIELD.to_representation(value)
    try:
        text = value.astimezone(zone).isoformat()
    except OverflowError:
        return _DATETIME_FIELD.to_representation(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def date_out(value: datetime.date | None) -> str | None:
    """What ``serializers.DateField().to_representation`` returns for a date."""
    return None if value is None else value.isoformat()


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
                        serializers.ErrorDetail("Unknown field.", code=CoreErrorCode.UNKNOWN_FIELD)
                    ]
                elif field.read_only:
                    problems[str(key)] = [
                        serializers.ErrorDetail(
                            "This field is read-only.", code=CoreErrorCode.READ_ONLY
                        )
                    ]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)  # type: ignore[misc]


def reject_nul(value: str) -> None:
    """NUL bytes cannot be stored by PostgreSQL and never belong in clinical text."""
    if "\x00" in value:
        raise serializers.ValidationError(
            "NUL characters are not allowed.", code=CoreErrorCode.NULL_CHARACTERS_NOT_ALLOWED
        )


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry a UTC offset (``Z`` or ``+05:30``).

    DRF would silently read a naive value in the server's time zone; for clinical times
    that guess can be hours off, so a naive value is a 400 (code ``naive``).
    """

    default_error_messages = {
        "naive": (
            "Include a UTC offset, e.g. 2026-03-02T09:30:00+01:00 or 2026-03-02T08:30:00Z; "
            "a time without one is ambiguous."
        ),
        "out_of_range": "Datetime out of range.",
    }

    def to_internal_value(self, value: Any) -> datetime.datetime:
        parsed: datetime.datetime | None = None
        if isinstance(value, datetime.datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        try:
            result: datetime.datetime = super().to_internal_value(value)
        except OverflowError:
            # An offset pushing 9999-12-31 past the last representable UTC instant.
            self.fail("out_of_range")
        return result
