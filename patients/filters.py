from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from core.filters import FilterSet
from outcomes.models import Outcome
from patients.models import Gender, Patient

MAX_SEARCH_LENGTH = 200


class PatientFilterSet(FilterSet):
    gender = django_filters.ChoiceFilter(choices=Gender.choices)
    date_of_birth = django_filters.DateFilter()
    date_of_birth_after = django_filters.DateFilter(
        field_name="date_of_birth", lookup_expr="gte", label="Born on or after (YYYY-MM-DD)."
    )
    date_of_birth_before = django_filters.DateFilter(
        field_name="date_of_birth", lookup_expr="lte", label="Born on or before (YYYY-MM-DD)."
    )
    email = django_filters.CharFilter(lookup_expr="iexact", max_length=254)
    mrn = django_filters.CharFilter(lookup_expr="iexact", max_length=16)
    latest_outcome = django_filters.ModelChoiceFilter(
        field_name="latest__outcome",
        queryset=Outcome.objects.all(),
        to_field_name="code",
        label="Patients whose most recent current interaction has this outcome code, "
        "e.g. `critical`; an unknown code is a 400.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=MAX_SEARCH_LENGTH,
        label="Fuzzy search over names, MRN and email; every word must match, in any order. "
        "A word one edit from a first or last name (a letter missing, extra or wrong, or "
        "two letters swapped: `rtuh` finds Ruth) matches that name and similar names; "
        "other words match by trigram similarity; a whole MRN or email address matches "
        "exactly. Best matches first (exact names, then corrected, then similar; ties by "
        "id) unless `ordering` is given. See docs/search.md.",
    )

    class Meta:
        model = Patient
        fields = ["gender", "date_of_birth", "email", "mrn"]

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> Any:
        if "\x00" in value:
            raise ValidationError({"search": ["NUL characters are not allowed."]})
        return queryset.search(value)  # type: ignore[attr-defined]
