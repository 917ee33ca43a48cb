from __future__ import annotations

from datetime import tzinfo
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from appointments.hours import clinic_zone
from appointments.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, Appointment
from core.serializers import (
    AwareDateTimeField,
    StrictFieldsMixin,
    current_zone,
    datetime_out,
    reject_nul,
)
from doctors.models import Doctor
from patients.models import Patient

APPOINTMENT_EXAMPLE = {
    "id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    "patient_id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
    "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
    "patient": {
        "id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
        "mrn": "MRN-000123",
        "first_name": "John",
        "last_name": "Smith",
    },
    "doctor": {
        "id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
        "full_name": "Dr. Amara Okafor",
        "specialty": "Cardiology",
    },
    "start_time": "2026-12-01T09:30:00Z",
    "end_time": "2026-12-01T10:00:00Z",
    "duration_minutes": 30,
    "status": "scheduled",
    "reason": "Follow-up after the ECG",
    "cancellation_reason": "",
    "cancelled_at": None,
    "created_by": "reception",
    "created_at": "2026-11-20T09:15:00Z",
    "updated_at": "2026-11-20T09:15:00Z",
}


class AppointmentPatientSerializer(serializers.ModelSerializer[Patient]):
    class Meta:
        model = Patient
        fields = ["id", "mrn", "first_name", "last_name"]
        read_only_fields = fields


class AppointmentDoctorSerializer(serializers.ModelSerializer[Doctor]):
    class Meta:
        model = Doctor
        fields = ["id", "full_name", "specialty"]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Book an appointment",
            value={
                "patient_id": "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11",
                "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
                "start_time": "2026-12-01T10:30:00+01:00",
                "duration_minutes": 30,
                "reason": "Follow-up after the ECG",
            },
            request_only=True,
        ),
        OpenApiExample("Appointment", value=APPOINTMENT_EXAMPLE, response_only=True),
    ]
)
class AppointmentSerializer(StrictFieldsMixin, serializers.ModelSerializer[Appointment]):
    """An appointment. ``end_time`` is computed; status changes through the actions."""

    patient_id = serializers.PrimaryKeyRelatedField(
        source="patient",
        queryset=Patient.objects.all(),
        pk_field=serializers.UUIDField(),
        help_text="The patient's id.",
    )
    doctor_id = serializers.PrimaryKeyRelatedField(
        source="doctor",
        queryset=Doctor.objects.all(),
        pk_field=serializers.UUIDField(),
        help_text="The doctor's id; the doctor must be active.",
    )
    patient = AppointmentPatientSerializer(read_only=True)
    doctor = AppointmentDoctorSerializer(read_only=True)
    start_time = AwareDateTimeField(
        help_text="ISO 8601 with a UTC offset (a time without one is refused); in the future."
    )
    duration_minutes = serializers.IntegerField(
        min_value=MIN_DURATION_MINUTES, max_value=MAX_DURATION_MINUTES
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, validators=[reject_nul]
    )
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient_id",
            "doctor_id",
            "patient",
            "doctor",
            "start_time",
            "end_time",
            "duration_minutes",
            "status",
            "reason",
            "cancellation_reason",
            "cancelled_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "end_time",
            "status",
            "cancellation_reason",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []

    def to_representation(self, instance: Appointment) -> dict[str, Any]:
        """The fields above, written out rather than walked field object by field object
        (a third of a day's list CPU, profiled). ``appointments/tests/
        test_representation.py`` holds it equal to the generic ``to_representation`` of
        the declared fields. Reads ``patient``, ``doctor`` and ``created_by`` as the
        nested serializers would: select_related them (the viewset does)."""
        a, zone = instance, current_zone()
        patient, doctor, created_by = a.patient, a.doctor, a.created_by
        return {
            "id": None if a.id is None else str(a.id),
            "patient_id": None if a.patient_id is None else str(a.patient_id),
            "doctor_id": None if a.doctor_id is None else str(a.doctor_id),
            "patient": {
                "id": str(patient.id),
                "mrn": patient.mrn,
                "first_name": patient.first_name,
                "last_name": patient.last_name,
            },
            "doctor": {
                "id": str(doctor.id),
                "full_name": doctor.full_name,
                "specialty": doctor.specialty,
            },
            "start_time": datetime_out(a.start_time, zone),
            "end_time": datetime_out(a.end_time, zone),
            "duration_minutes": None if a.duration_minutes is None else int(a.duration_minutes),
            "status": None if a.status is None else str(a.status),
            "reason": None if a.reason is None else str(a.reason),
            "cancellation_reason": (
                None if a.cancellation_reason is None else str(a.cancellation_reason)
            ),
            "cancelled_at": datetime_out(a.cancelled_at, zone),
            "created_by": None if created_by is None else created_by.username,
            "created_at": datetime_out(a.created_at, zone),
            "updated_at": datetime_out(a.updated_at, zone),
        }


class AppointmentCancelSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        validators=[reject_nul],
        help_text="Why the appointment is cancelled (optional).",
    )


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
