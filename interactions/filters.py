from __future__ import annotations

import django_filters

from core.filters import AwareDateTimeFilter, FilterSet
from interactions.models import Interaction, InteractionStatus
from outcomes.models import Outcome


class InteractionFilterSet(FilterSet):
    patient_id = django_filters.UUIDFilter(field_name="patient_id")
    doctor_id = django_filters.UUIDFilter(field_name="doctor_id")
    outcome = django_filters.ModelChoiceFilter(
        queryset=Outcome.objects.all(),
        to_field_name="code",
        label="Outcome code (active or not); an unknown code is a 400.",
    )
    status = django_filters.ChoiceFilter(
        choices=InteractionStatus.choices,
        label="Only entries in this status (implies `include_history`).",
    )
    occurred_after = AwareDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        label="Occurred at or after (ISO 8601 with offset).",
    )
    occurred_before = AwareDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="lt",
        label="Occurred before (ISO 8601 with offset).",
    )

    class Meta:
        model = Interaction
        fields = ["patient_id", "doctor_id", "outcome", "status"]


class PatientInteractionFilterSet(InteractionFilterSet):
    """The same filters under ``/patients/{id}/interactions/`` (the patient is the path's)."""

    patient_id = None

    class Meta:
        model = Interaction
        fields = ["doctor_id", "outcome", "status"]
