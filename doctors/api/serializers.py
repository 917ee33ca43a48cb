from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictFieldsMixin, reject_nul
from doctors.models import Doctor

DOCTOR_EXAMPLE = {
    "id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
    "full_name": "Dr. Amara Okafor",
    "specialty": "Cardiology",
    "email": "amara.okafor@clinic.example",
    "phone": "+14155550101",
    "is_active": True,
    "user_id": None,
    "created_at": "2026-11-20T09:15:00Z",
    "updated_at": "2026-11-20T09:15:00Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "New doctor",
            value={
                "full_name": "Dr. Amara Okafor",
                "specialty": "Cardiology",
                "email": "Amara.Okafor@clinic.example",
                "phone": "+1 415 555 0101",
            },
            request_only=True,
        ),
        OpenApiExample("Doctor", value=DOCTOR_EXAMPLE, response_only=True),
    ]
)
class DoctorSerializer(StrictFieldsMixin, serializers.ModelSerializer[Doctor]):
    """A doctor. ``email`` is stored lower-case; ``is_active`` changes via toggle-status."""

    full_name = serializers.CharField(max_length=200, validators=[reject_nul])
    specialty = serializers.CharField(max_length=100, validators=[reject_nul])
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=32)
    user_id = serializers.PrimaryKeyRelatedField(
        source="user",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the user account this doctor signs in with (a Provider), if any.",
    )

    class Meta:
        model = Doctor
        fields = [
            "id",
            "full_name",
            "specialty",
            "email",
            "phone",
            "is_active",
            "user_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "updated_at"]
        # Uniqueness is reported by the service as a 409, not as a 400 here.
        validators: list[Any] = []


# Described field by field: the doctors app does not import the appointments app.
class DoctorAppointmentSerializer(serializers.Serializer[Any]):
    """A scheduled appointment of a deactivated doctor, to be moved to another doctor."""

    id = serializers.UUIDField(read_only=True)
    patient_id = serializers.UUIDField(read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    start_time = serializers.DateTimeField(read_only=True)
    end_time = serializers.DateTimeField(read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)


class DoctorStatusSerializer(DoctorSerializer):
    future_appointments = DoctorAppointmentSerializer(
        many=True,
        read_only=True,
        help_text="After a deactivation: the scheduled appointments from now on, which still "
        "need a new doctor (nothing is cancelled). Empty after an activation.",
    )

    class Meta(DoctorSerializer.Meta):
        fields = [*DoctorSerializer.Meta.fields, "future_appointments"]
