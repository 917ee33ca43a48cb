from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictFieldsMixin
from summaries.errors import JobErrorCode
from summaries.models import (
    AUDIENCE_CHOICES,
    DEFAULT_AUDIENCE,
    DEFAULT_LENGTH,
    LENGTH_CHOICES,
    Summary,
)

# Every code a failed job records (see docs/summaries.md).
SUMMARY_ERROR_CODES = [code.value for code in JobErrorCode]

SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "3f6c1a2b-9d4e-4f5a-8b7c-6d5e4f3a2b1c",
    "patient_id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
    "audience": "clinician",
    "length": "brief",
    "status": "succeeded",
    "provider": "local",
    "model": "local-rules-v1",
    "prompt_version": "2026-11-1",
    "deidentified": True,
    "input_hash": "9b1f0c4e7a2d5b8c3e6f9a0d1c4b7e2f5a8d1c4b7e0f3a6d9c2b5e8f1a4d7c0b",
    "result": {
        "heading": {
            "name": "John Smith",
            "age": 62,
            "date_of_birth": "1964-03-04",
            "gender": "male",
            "mrn": "MRN-000123",
        },
        "narrative": "62-year-old male. Active problems: Hypertension. Current medications: "
        "lisinopril 10 mg PO daily. Next appointment: 2026-12-01 with cardiology.",
        "diagnoses": ["Hypertension"],
        "medications": ["lisinopril 10 mg PO daily"],
        "allergies": ["No known drug allergies"],
        "observations": ["2026-11-20: BP 148/92 mmHg (high)"],
        "plan": ["2026-12-01 09:30 cardiology (Dr. Amara Okafor): Follow-up after the ECG"],
        "sources": {"notes": ["0c9d8e7f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"], "interactions": []},
        "unverified": {"medications": [], "diagnoses": []},
    },
    "error": None,
    "attempts": 1,
    "usage": None,
    "requested_by": "provider",
    "created_at": "2026-11-22T09:30:00Z",
    "queued_at": "2026-11-22T09:30:00Z",
    "started_at": "2026-11-22T09:30:01Z",
    "finished_at": "2026-11-22T09:30:01Z",
}


class SummaryHeadingSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    age = serializers.IntegerField(allow_null=True, help_text="Age in years on the day.")
    date_of_birth = serializers.DateField(allow_null=True)
    gender = serializers.CharField()
    mrn = serializers.CharField(allow_null=True)


class SummarySourcesSerializer(serializers.Serializer[Any]):
    notes = serializers.ListField(child=serializers.CharField(), help_text="Note ids.")
    interactions = serializers.ListField(
        child=serializers.CharField(), help_text="Interaction ids."
    )


class SummaryUnverifiedSerializer(serializers.Serializer[Any]):
    medications = serializers.ListField(child=serializers.CharField())
    diagnoses = serializers.ListField(child=serializers.CharField())


def _strings(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), help_text=help_text)


class SummaryResultSerializer(serializers.Serializer[Any]):
    heading = SummaryHeadingSerializer(help_text="From the database, never from the model.")
    narrative = serializers.CharField(help_text="Written for the audience; capped by length.")
    diagnoses = _strings("Checked against the record.")
    medications = _strings("Current medications, checked against the record.")
    allergies = _strings("Documented allergies.")
    observations = _strings("Notable vitals and findings with dates.")
    plan = _strings("Next steps and upcoming appointments.")
    sources = SummarySourcesSerializer(help_text="The notes and interactions it was built from.")
    unverified = SummaryUnverifiedSerializer(
        help_text="Items the model returned that could not be found in the record."
    )


class SummaryErrorSerializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=SUMMARY_ERROR_CODES)
    message = serializers.CharField()


class SummaryUsageSerializer(serializers.Serializer[Any]):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


@extend_schema_serializer(
    examples=[OpenApiExample("Succeeded summary", value=SUMMARY_EXAMPLE, response_only=True)]
)
class SummarySerializer(serializers.ModelSerializer[Summary]):
    """A summary job: ``result`` once it succeeded, ``error`` once it failed."""

    patient_id = serializers.UUIDField(read_only=True)
    result = SummaryResultSerializer(read_only=True, allow_null=True)
    error = SummaryErrorSerializer(read_only=True, allow_null=True)
    usage = SummaryUsageSerializer(
        read_only=True, allow_null=True, help_text="Tokens, when the provider reports them."
    )
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Summary
        fields = [
            "id",
            "patient_id",
            "audience",
            "length",
            "status",
            "provider",
            "model",
            "prompt_version",
            "deidentified",
            "input_hash",
            "result",
            "error",
            "attempts",
            "usage",
            "requested_by",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class CurrentSummarySerializer(SummarySerializer):
    stale = serializers.SerializerMethodField(
        help_text="True when the record changed since this summary was written "
        "(only with allow_stale=true)."
    )

    class Meta(SummarySerializer.Meta):
        fields = [*SummarySerializer.Meta.fields, "stale"]
        read_only_fields = fields

    def get_stale(self, summary: Summary) -> bool:
        return bool(self.context.get("stale", False))


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Plain-language summary for the family",
            value={"audience": "family", "length": "brief"},
            request_only=True,
        )
    ]
)
class SummaryRequestSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    audience = serializers.ChoiceField(choices=AUDIENCE_CHOICES, default=DEFAULT_AUDIENCE)
    length = serializers.ChoiceField(choices=LENGTH_CHOICES, default=DEFAULT_LENGTH)


class CurrentSummaryQuerySerializer(serializers.Serializer[Any]):
    audience = serializers.ChoiceField(choices=AUDIENCE_CHOICES, default=DEFAULT_AUDIENCE)
    length = serializers.ChoiceField(choices=LENGTH_CHOICES, default=DEFAULT_LENGTH)
    allow_stale = serializers.BooleanField(
        default=False,
        help_text="Return the newest succeeded summary even if the record changed since.",
    )
