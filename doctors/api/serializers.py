from __future__ import annotations

from datetime import tzinfo
from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from appointments.hours import clinic_zone
from appointments.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, Appointment
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


class DoctorAppointmentSerializer(serializers.ModelSerializer[Appointment]):
    """A scheduled appointment of a deactivated doctor, to be moved to another doctor."""

    patient_id = serializers.UUIDField(read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "patient_id", "patient_name", "start_time", "end_time", "duration_minutes"]
        read_only_fields = fields


class DoctorStatusSerializer(DoctorSerializer):
    future_appointments = DoctorAppointmentSerializer(
        many=True,
        read_only=True,
        help_text="After a deactivation: the scheduled appointments from now on, which still "
        "need a new doctor (nothing is cancelled). Empty after an activation.",
    )

    class Meta(DoctorSerializer.Meta):
        fields = [*DoctorSerializer.Meta.fields, "future_appointments"]


class AvailabilityQuerySerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    date = serializers.DateField(help_text="The clinic's calendar day, YYYY-MM-DD.")
    duration = serializers.IntegerField(
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        default=30,
        help_text="Appointment length in minutes (15-180).",
    )

    def validate_date(self, value: Any) -> Any:
        if value.year >= 9999:
            raise serializers.ValidationError("Date out of range.")
        return value


class ClinicDateTimeField(serializers.DateTimeField):
    """Rendered in the clinic's time zone (with its offset) rather than in UTC."""

    def default_timezone(self) -> tzinfo:
        return clinic_zone()


class AvailabilitySerializer(serializers.Serializer[Any]):
    doctor_id = serializers.UUIDField()
    date = serializers.DateField()
    duration_minutes = serializers.IntegerField()
    slot_minutes = serializers.IntegerField(help_text="The grid the start times lie on.")
    time_zone = serializers.CharField(help_text="The clinic's time zone (CLINIC_TIME_ZONE).")
    slots = serializers.ListField(
        child=ClinicDateTimeField(),
        help_text="Free start times, in the clinic's time zone, earliest first.",
    )
