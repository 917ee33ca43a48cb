from __future__ import annotations

import django_filters

from core.filters import FilterSet
from summaries.models import AUDIENCE_CHOICES, LENGTH_CHOICES, Summary, SummaryStatus


class SummaryFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=SummaryStatus.choices)
    audience = django_filters.ChoiceFilter(choices=AUDIENCE_CHOICES)
    length = django_filters.ChoiceFilter(choices=LENGTH_CHOICES)

    class Meta:
        model = Summary
        fields = ["status", "audience", "length"]
