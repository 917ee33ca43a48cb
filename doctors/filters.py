from __future__ import annotations

from typing import Any

import django_filters
from rest_framework.exceptions import ValidationError

from core.filters import FilterSet
from doctors.models import Doctor, DoctorQuerySet

MAX_SEARCH_LENGTH = 200


class DoctorFilterSet(FilterSet):
    is_active = django_filters.BooleanFilter()
    specialty = django_filters.CharFilter(
        lookup_expr="iexact", max_length=100, label="Exact specialty, case-insensitive."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        label="Every word must appear in the name or the specialty (case-insensitive).",
    )

    class Meta:
        model = Doctor
        fields = ["is_active", "specialty"]

    def filter_search(self, queryset: DoctorQuerySet, name: str, value: str) -> Any:
        if "\x00" in value:
            raise ValidationError({"search": ["NUL characters are not allowed."]})
        return queryset.search(value)
