from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from appointments.models import Appointment
from core.serializers import AwareDateTimeField, StrictFieldsMixin, reject_nul
from doctors.models import Doctor
from interactions.errors import InteractionErrorCode
from interactions.models import MAX_NOTES_LENGTH, Interaction
from outcomes.models import Outcome
from patients.models import Patient

INTERACTION_EXAMPLE = {
    "id": "3b0e7a4c-2f1d-4e8a-9c6b-5d4e3f2a1b0c",
    "patient_id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
    "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
    "appointment_id": None,
    "outcome": "monitor",
    "outcome_label": "Monitor",
    "outcome_severity": 1,
    "notes": "Blood pressure 150/95. Recheck in two weeks.",
    "occurred_at": "2026-11-20T09:40:00Z",
    "status": "current",
    "amends": None,
    "amended_by": None,
    "recorded_by": "dr.okafor",
    "recorded_at": "2026-11-20T09:52:13Z",
    "retraction_reason": "",
    "retracted_at": None,
    "retracted_by": None,
}


def _id_field(queryset: Any, source: str, help_text: str, required: bool) -> Any:
    return serializers.PrimaryKeyRelatedField(
        source=source,
        queryset=queryset,
        pk_field=serializers.UUIDField(),
        required=required,
        allow_null=not required,
        help_text=help_text,
    )


class InteractionSerializer(serializers.ModelSerializer[Interaction]):
    """An interaction (read-only: corrections go through `amend` and `retract`)."""

    patient_id = serializers.UUIDField(read_only=True)
    doctor_id = serializers.UUIDField(read_only=True, allow_null=True)
    appointment_id = serializers.UUIDField(read_only=True, allow_null=True)
    outcome = serializers.CharField(source="outcome_id", read_only=True, help_text="Its code.")
    outcome_label = serializers.CharField(source="outcome.label", read_only=True)
    outcome_severity = serializers.IntegerField(source="outcome.severity", read_only=True)
    amends = serializers.UUIDField(
        source="amends_id",
        read_only=True,
        allow_null=True,
        help_text="The entry this one corrects.",
    )
    amended_by = serializers.SerializerMethodField(help_text="The entry that corrects this one.")
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    retracted_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "patient_id",
            "doctor_id",
            "appointment_id",
            "outcome",
            "outcome_label",
            "outcome_severity",
            "notes",
            "occurred_at",
            "status",
            "amends",
            "amended_by",
            "recorded_by",
            "recorded_at",
            "retraction_reason",
            "retracted_at",
            "retracted_by",
        ]
        read_only_fields = fields

    def get_amended_by(self, interaction: Interaction) -> str | None:
        # Reverse one-to-one: select_related("amended_by") in the views fetches it.
        try:
            return str(interaction.amended_by.pk)
        except Interaction.amended_by.RelatedObjectDoesNotExist:
            return None


def _notes_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_NOTES_LENGTH,
        validators=[reject_nul],
        help_text=f"Free text, up to {MAX_NOTES_LENGTH:,} characters.",
        **kwargs,
    )


def _occurred_at_field(help_text: str) -> AwareDateTimeField:
    return AwareDateTimeField(
        required=False,
        help_text=help_text + " ISO 8601 with a UTC offset; not more than five minutes in "
        "the future.",
    )


def _doctor_field() -> Any:
    return _id_field(
        Doctor.objects.all(), "doctor", "The clinician's id (optional).", required=False
    )


def _appointment_field() -> Any:
    return _id_field(
        Appointment.objects.all(),
        "appointment",
        "The appointment this contact belongs to (optional); same patient.",
        required=False,
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Record an interaction",
            value={
                "patient_id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
                "outcome": "monitor",
                "notes": "Blood pressure 150/95. Recheck in two weeks.",
                "occurred_at": "2026-11-20T10:40:00+01:00",
                "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
            },
            request_only=True,
        ),
        OpenApiExample("Interaction", value=INTERACTION_EXAMPLE, response_only=True),
    ]
)
class InteractionCreateSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    patient_id = _id_field(Patient.objects.all(), "patient", "The patient's id.", required=True)
    outcome = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Outcome.objects.all(),
        help_text="An active outcome's code, e.g. `healthy`.",
    )
    notes = _notes_field(default="")
    occurred_at = _occurred_at_field("When the contact happened (default: now).")
    doctor_id = _doctor_field()
    appointment_id = _appointment_field()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Correct the outcome",
            value={"outcome": "critical", "notes": "Blood pressure 190/120; sent to A&E."},
            request_only=True,
        ),
    ]
)
class InteractionAmendSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """The corrected fields; whatever is left out is copied from the entry amended."""

    outcome = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Outcome.objects.all(),
        required=False,
        help_text="An outcome's code; a new choice must be active.",
    )
    notes = _notes_field()
    occurred_at = _occurred_at_field("When the contact really happened.")
    doctor_id = _doctor_field()
    appointment_id = _appointment_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one corrected field.", code=InteractionErrorCode.NO_CHANGES
            )
        return attrs


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Retract",
            value={"reason": "Recorded on the wrong patient."},
            request_only=True,
        ),
    ]
)
class InteractionRetractSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(
        max_length=2000,
        validators=[reject_nul],
        help_text="Why the entry was made in error (required).",
    )
