from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError

from appointments.hours import day_bounds
from appointments.models import Appointment, AppointmentStatus


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
                "Include a UTC offset, e.g. 2026-03-02T09:30:00Z.", code="naive"
            )
        return parsed


class AwareDateTimeFilter(django_filters.DateTimeFilter):
    field_class = AwareDateTimeFormField


class AppointmentFilterSet(django_filters.FilterSet):
    date = django_filters.DateFilter(
        method="filter_date",
        label="Appointments that start on this day of the clinic's calendar "
        "(CLINIC_TIME_ZONE), YYYY-MM-DD.",
    )
    doctor_id = django_filters.UUIDFilter(field_name="doctor_id")
    patient_id = django_filters.UUIDFilter(field_name="patient_id")
    status = django_filters.ChoiceFilter(choices=AppointmentStatus.choices)
    start_after = AwareDateTimeFilter(
        field_name="start_time",
        lookup_expr="gte",
        label="Starts at or after (ISO 8601 with offset).",
    )
    start_before = AwareDateTimeFilter(
        field_name="start_time", lookup_expr="lt", label="Starts before (ISO 8601 with offset)."
    )

    class Meta:
        model = Appointment
        fields = ["doctor_id", "patient_id", "status"]

    def filter_date(self, queryset: QuerySet[Appointment], name: str, value: dt.date) -> Any:
        try:
            start, end = day_bounds(value)
        except OverflowError:
            raise ValidationError({"date": ["Date out of range."]}) from None
        return queryset.filter(start_time__gte=start, start_time__lt=end)
