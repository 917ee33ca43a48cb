from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from appointments.hours import day_bounds
from appointments.models import Appointment, AppointmentStatus
from core.filters import AwareDateTimeFilter, FilterSet


class AppointmentFilterSet(FilterSet):
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
