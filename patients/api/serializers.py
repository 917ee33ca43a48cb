from __future__ import annotations

import uuid
from datetime import datetime, tzinfo
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.errors import CoreErrorCode
from core.serializers import (
    AwareDateTimeField,
    StrictFieldsMixin,
    current_zone,
    date_out,
    datetime_out,
)
from patients.models import Patient
from patients.timeline import InvalidCursor, decode_cursor, timeline_types

PATIENT_EXAMPLE = {
    "id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
    "mrn": "MRN-000123",
    "first_name": "John",
    "last_name": "Smith",
    "date_of_birth": "1961-03-04",
    "gender": "male",
    "email": "john.smith@example.org",
    "phone": "+14155552671",
    "latest_outcome": {
        "code": "monitor",
        "label": "Monitor",
        "severity": 1,
        "occurred_at": "2026-11-20T09:40:00Z",
    },
    "created_at": "2026-11-20T09:15:00Z",
    "updated_at": "2026-11-20T09:15:00Z",
}


class LatestOutcomeSerializer(serializers.Serializer[Any]):
    """The outcome of the patient's most recent current interaction."""

    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    severity = serializers.IntegerField()
    occurred_at = serializers.DateTimeField(help_text="When that interaction happened.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "New patient",
            value={
                "first_name": "John",
                "last_name": "Smith",
                "date_of_birth": "1961-03-04",
                "gender": "male",
                "email": "john.smith@example.org",
                "phone": "+1 415 555 2671",
            },
            request_only=True,
        ),
        OpenApiExample("Patient", value=PATIENT_EXAMPLE, response_only=True),
    ]
)
class PatientSerializer(StrictFieldsMixin, serializers.ModelSerializer[Patient]):
    """A patient. ``mrn`` is assigned by the server; ``phone`` is returned in E.164."""

    email = serializers.EmailField(
        required=False, allow_null=True, allow_blank=True, max_length=254
    )
    phone = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=32)
    latest_outcome = serializers.SerializerMethodField(
        help_text="Outcome of the most recent current interaction; null if there is none."
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "email",
            "phone",
            "latest_outcome",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "mrn", "created_at", "updated_at"]
        # Uniqueness of email is reported by the service as a 409, not as a 400 here.
        validators: list[Any] = []

    def to_representation(self, instance: Patient) -> dict[str, Any]:
        """The fields above, written out. ``ModelSerializer`` builds and walks a field
        object per attribute for every response (a third of a list page's CPU, profiled);
        this returns the same dict directly. ``patients/tests/test_representation.py``
        holds it equal to the generic ``to_representation`` of the declared fields, so a
        field added to ``Meta.fields`` but not here fails the suite."""
        p, zone = instance, current_zone()
        return {
            "id": None if p.id is None else str(p.id),
            "mrn": p.mrn,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "date_of_birth": date_out(p.date_of_birth),
            "gender": None if p.gender is None else str(p.gender),
            "email": p.email,
            "phone": p.phone,
            "latest_outcome": self._latest_outcome(p, zone),
            "created_at": datetime_out(p.created_at, zone),
            "updated_at": datetime_out(p.updated_at, zone),
        }

    @extend_schema_field(LatestOutcomeSerializer(allow_null=True))
    def get_latest_outcome(self, patient: Patient) -> dict[str, Any] | None:
        return self._latest_outcome(patient, current_zone())

    @staticmethod
    def _latest_outcome(patient: Patient, zone: tzinfo) -> dict[str, Any] | None:
        # Maintained by the interaction services; the views select_related the outcome.
        # A plain dict rather than a nested serializer per row: on a page of 20 patients
        # the nested serializers cost a third of the response time (profiled).
        outcome, occurred_at = patient.latest_outcome, patient.latest_outcome_at
        if outcome is None or occurred_at is None:
            return None
        return {
            "code": outcome.code,
            "label": outcome.label,
            "severity": outcome.severity,
            "occurred_at": datetime_out(occurred_at, zone),
        }


class TimelineQuerySerializer(serializers.Serializer[Any]):
    """Query parameters of the patient timeline."""

    type = serializers.CharField(
        required=False,
        help_text="Comma-separated item types to include (default: all), e.g. "
        "`appointment,interaction`. An unknown type is a 400.",
    )
    start = AwareDateTimeField(
        required=False, help_text="Only items at or after this time (ISO 8601 with offset)."
    )
    end = AwareDateTimeField(
        required=False, help_text="Only items before this time (ISO 8601 with offset)."
    )
    cursor = serializers.CharField(
        required=False,
        help_text="Opaque position returned in `next`; continue from there. Items added "
        "meanwhile never repeat or shift what follows.",
    )
    page_size = serializers.IntegerField(
        required=False, default=20, min_value=1, max_value=100, help_text="Default 20, max 100."
    )

    def validate_type(self, value: str) -> list[str]:
        wanted = [t.strip() for t in value.split(",") if t.strip()]
        known = timeline_types()
        unknown = sorted(set(wanted) - set(known))
        if unknown or not wanted:
            raise serializers.ValidationError(
                f"Unknown type(s): {', '.join(unknown) or '(empty)'}. Known: {', '.join(known)}.",
                code=CoreErrorCode.INVALID,
            )
        return wanted

    def validate_cursor(self, value: str) -> tuple[datetime, uuid.UUID]:
        try:
            return decode_cursor(value)
        except InvalidCursor:
            raise serializers.ValidationError(
                "Invalid cursor; use the `next` link of a previous page.",
                code=CoreErrorCode.INVALID,
            ) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end": ["Must be after `start`."]})
        return attrs


class TimelineItemSerializer(serializers.Serializer[Any]):
    type = serializers.CharField(help_text="`appointment`, `interaction`, ...")
    id = serializers.UUIDField()
    at = serializers.DateTimeField(
        help_text="When it happened: an appointment's start, an interaction's occurred_at."
    )
    title = serializers.CharField(help_text="One line for display.")
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="Compact fields of the item, by type."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Timeline page",
            value={
                "next": "https://clinic.example/api/v1/patients/5f0c3a52-4a8e-4a55-9a59-"
                "0d6f7c1f2b11/timeline/?cursor=MjAyNi0xMS0yMFQwOTo0MDowMCswMDowMHxpbnRlcmFjdGlvbnwz",
                "results": [
                    {
                        "type": "appointment",
                        "id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                        "at": "2026-12-01T09:30:00Z",
                        "title": "Appointment with Dr. Amara Okafor (scheduled)",
                        "data": {
                            "status": "scheduled",
                            "end_time": "2026-12-01T10:00:00Z",
                            "duration_minutes": 30,
                            "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
                            "doctor_name": "Dr. Amara Okafor",
                            "reason": "Follow-up after the ECG",
                        },
                    },
                    {
                        "type": "interaction",
                        "id": "3b0e7a4c-2f1d-4e8a-9c6b-5d4e3f2a1b0c",
                        "at": "2026-11-20T09:40:00Z",
                        "title": "Interaction: Monitor (Dr. Amara Okafor)",
                        "data": {
                            "outcome": "monitor",
                            "outcome_label": "Monitor",
                            "outcome_severity": 1,
                            "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
                            "appointment_id": None,
                            "notes_preview": "Blood pressure 150/95. Recheck in two weeks.",
                            "amends": None,
                        },
                    },
                ],
            },
            response_only=True,
        )
    ]
)
class TimelinePageSerializer(serializers.Serializer[Any]):
    next = serializers.URLField(
        allow_null=True, help_text="The next (older) page, or null on the last page."
    )
    results = TimelineItemSerializer(many=True)
