from __future__ import annotations

import django_filters

from summaries.models import Audience, Length, Summary, SummaryStatus


class SummaryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SummaryStatus.choices)
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    length = django_filters.ChoiceFilter(choices=Length.choices)

    class Meta:
        model = Summary
        fields = ["status", "audience", "length"]
