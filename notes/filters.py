from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notes.models import Note, NoteStatus, NoteType


class AwareDateTimeFormField(forms.DateTimeField):
    """ISO 8601 with a UTC offset; a naive value is an error, never read in the server's
    time zone. (In a query string, write ``+`` as ``%2B`` or use ``Z``.)"""

    def to_python(self, value: Any) -> datetime | None:
        if not isinstance(value, str) or not value.strip():
            result: datetime | None = super().to_python(value)
            return result
        try:
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_aware(parsed):
                parsed.astimezone(UTC)  # out of range once converted?
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(parsed):
            raise forms.ValidationError(
                "Include a UTC offset, e.g. 2026-03-02T09:30:00Z.", code="naive_datetime"
            )
        return parsed


class AwareDateTimeFilter(django_filters.DateTimeFilter):
    field_class = AwareDateTimeFormField


class NoteFilterSet(django_filters.FilterSet):
    note_type = django_filters.ChoiceFilter(choices=NoteType.choices)
    status = django_filters.ChoiceFilter(choices=NoteStatus.choices)
    taken_after = AwareDateTimeFilter(
        field_name="taken_at",
        lookup_expr="gte",
        label="Taken at or after (ISO 8601 with offset).",
    )
    taken_before = AwareDateTimeFilter(
        field_name="taken_at", lookup_expr="lt", label="Taken before (ISO 8601 with offset)."
    )

    class Meta:
        model = Note
        fields = ["note_type", "status"]
