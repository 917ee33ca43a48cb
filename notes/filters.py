from __future__ import annotations

import django_filters

from core.filters import AwareDateTimeFilter, FilterSet
from notes.models import Note, NoteStatus, NoteType


class NoteFilterSet(FilterSet):
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
