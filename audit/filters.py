from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.db.models import QuerySet

from audit.models import Action, AuditEvent
from core.filters import AwareDateTimeFilter, FilterSet


class AuditEventFilterSet(FilterSet):
    patient_id = django_filters.UUIDFilter(
        method="filter_patient",
        label="Events about this patient, and events whose result listed them (searches, "
        "lists, timelines).",
    )
    actor = django_filters.CharFilter(
        method="filter_actor", max_length=150, label="The acting user's id or username."
    )
    action = django_filters.ChoiceFilter(choices=Action.choices)
    resource_type = django_filters.CharFilter(max_length=64)
    at_after = AwareDateTimeFilter(
        field_name="at", lookup_expr="gte", label="At or after (ISO 8601 with offset)."
    )
    at_before = AwareDateTimeFilter(
        field_name="at", lookup_expr="lt", label="Before (ISO 8601 with offset)."
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "resource_type"]

    def filter_patient(self, queryset: QuerySet[AuditEvent], name: str, value: uuid.UUID) -> Any:
        return queryset.for_patient(value)  # type: ignore[attr-defined]

    def filter_actor(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> Any:
        value = value.strip()
        if value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset.filter(actor_username=value)
