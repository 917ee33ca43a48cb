from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictFieldsMixin
from patients.models import Patient

PATIENT_EXAMPLE = {
    "id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
    "mrn": "MRN-000123",
    "first_name": "John",
    "last_name": "Smith",
    "date_of_birth": "1961-03-04",
    "gender": "male",
    "email": "john.smith@example.org",
    "phone": "+14155552671",
    "created_at": "2026-11-20T09:15:00Z",
    "updated_at": "2026-11-20T09:15:00Z",
}


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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "mrn", "created_at", "updated_at"]
        # Uniqueness of email is reported by the service as a 409, not as a 400 here.
        validators: list[Any] = []
