from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from appointments.api.serializers import (
    AppointmentCancelSerializer,
    AppointmentSerializer,
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
)
from appointments.availability import free_starts
from appointments.errors import AppointmentErrorCode
from appointments.filters import AppointmentFilterSet
from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_delete,
    appointment_mark_no_show,
    appointment_reschedule,
)
from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import CoreErrorCode, ErrorCode
from core.permissions import ClinicalRecord, Configuration
from core.schema import error_response
from core.views import ReplicaReads
from doctors.models import Doctor

OVERLAP = (
    "the slot overlaps a scheduled appointment; the body adds `conflicting_appointment_id` "
    "and `next_available` (up to three free start times)."
)
BOOKING_CONFLICT: dict[ErrorCode, str] = {
    AppointmentErrorCode.DOCTOR_INACTIVE: "the doctor is inactive.",
    AppointmentErrorCode.DOCTOR_CONFLICT: OVERLAP,
    AppointmentErrorCode.PATIENT_CONFLICT: OVERLAP,
}
NOT_SCHEDULED: dict[ErrorCode, str] = {
    AppointmentErrorCode.ALREADY_CANCELLED: "the appointment is cancelled.",
    AppointmentErrorCode.NOT_SCHEDULED: "the appointment is completed or a no-show.",
}
NOT_STARTED = {**NOT_SCHEDULED, AppointmentErrorCode.NOT_STARTED: "it has not started yet."}

CONFLICT_EXAMPLE = OpenApiExample(
    "Double booking",
    value={
        "code": "doctor_conflict",
        "detail": "The doctor already has an appointment that overlaps this time.",
        "errors": [],
        "request_id": "4f2c0a9b1d3e4f5a",
        "conflicting_appointment_id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
        "next_available": [
            "2026-12-01T10:00:00+00:00",
            "2026-12-01T10:15:00+00:00",
            "2026-12-01T10:30:00+00:00",
        ],
    },
    status_codes=["409"],
    response_only=True,
)
BOOKED = {
    201: AppointmentSerializer,
    409: error_response(409, BOOKING_CONFLICT, examples=[CONFLICT_EXAMPLE]),
}


@extend_schema_view(
    list=extend_schema(summary="List appointments (filter by day, doctor, patient, status)"),
    create=extend_schema(summary="Book an appointment", responses=BOOKED),
    retrieve=extend_schema(summary="Get an appointment"),
    partial_update=extend_schema(
        summary="Reschedule or change the reason",
        description="A change of `start_time`, `duration_minutes`, `doctor_id` or "
        "`patient_id` re-checks every booking rule; only scheduled appointments move.",
        responses={
            200: AppointmentSerializer,
            409: error_response(
                409, {**BOOKING_CONFLICT, **NOT_SCHEDULED}, examples=[CONFLICT_EXAMPLE]
            ),
        },
    ),
    destroy=extend_schema(summary="Delete an appointment without clinical records (Admin)"),
)
class AppointmentViewSet(ReplicaReads, Audited, viewsets.ModelViewSet[Appointment]):
    queryset = Appointment.objects.select_related("patient", "doctor", "created_by")
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilterSet
    permission_classes = [ClinicalRecord]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["start_time", "end_time", "created_at", "status"]
    ordering = ["start_time"]
    audit_actions = {"cancel": Action.UPDATE, "complete": Action.UPDATE, "no_show": Action.UPDATE}
    error_statuses = {
        "destroy": {
            409: {
                CoreErrorCode.HAS_DEPENDENTS: "clinical records refer to it (`dependents`); "
                "cancel it instead."
            }
        },
        "cancel": {409: NOT_SCHEDULED},
        "complete": {409: NOT_STARTED},
        "no_show": {409: NOT_STARTED},
    }

    def perform_create(self, serializer: BaseSerializer[Appointment]) -> None:
        serializer.instance = appointment_book(
            **serializer.validated_data, actor=actor_of(self.request)
        )

    def perform_update(self, serializer: BaseSerializer[Appointment]) -> None:
        assert serializer.instance is not None
        serializer.instance = appointment_reschedule(
            appointment=serializer.instance,
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Appointment) -> None:
        appointment_delete(appointment=instance, actor=actor_of(self.request))

    @extend_schema(
        summary="Cancel a scheduled appointment",
        request=AppointmentCancelSerializer,
        responses=AppointmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        body = AppointmentCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = appointment_cancel(
            appointment=self.get_object(),
            actor=actor_of(request),
            reason=body.validated_data["reason"],
        )
        return Response(AppointmentSerializer(done).data, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Mark a started appointment completed",
        request=None,
        responses=AppointmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return Response(
            AppointmentSerializer(
                appointment_complete(appointment=self.get_object(), actor=actor_of(request))
            ).data
        )

    @extend_schema(
        summary="Mark a started appointment a no-show",
        request=None,
        responses=AppointmentSerializer,
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str | None = None) -> Response:
        return Response(
            AppointmentSerializer(
                appointment_mark_no_show(appointment=self.get_object(), actor=actor_of(request))
            ).data
        )


class DoctorAvailabilityView(Audited, GenericAPIView[Doctor]):
    """``GET /doctors/{id}/availability/``: scheduling's view of a doctor's day (it lives
    here, with the booking rules it shares, so that doctors never imports appointments)."""

    queryset = Doctor.objects.all()
    permission_classes = [Configuration]
    serializer_class = AvailabilitySerializer

    @extend_schema(
        summary="Free start times of a doctor on a day",
        operation_id="api_v1_doctors_availability_retrieve",
        tags=["api"],
        description="Start times on the clinic's calendar day (CLINIC_TIME_ZONE) on a grid of "
        "SCHEDULING_SLOT_MINUTES, inside CLINIC_OPENING_HOURS, after the present moment, "
        "where an appointment of `duration` minutes would not overlap one of the doctor's "
        "scheduled appointments. An inactive doctor has no free times.",
        parameters=[
            OpenApiParameter(
                "date", str, required=True, description="The clinic's calendar day, YYYY-MM-DD."
            ),
            OpenApiParameter(
                "duration",
                int,
                required=False,
                description="Appointment length in minutes, 15 to 180 (default 30).",
            ),
        ],
        responses=AvailabilitySerializer,
        examples=[
            OpenApiExample(
                "Availability",
                value={
                    "doctor_id": "0b6f3c1e-6d1a-4c55-8a3e-2f0f5b7d9a01",
                    "date": "2026-12-01",
                    "duration_minutes": 30,
                    "slot_minutes": 15,
                    "time_zone": "Europe/Berlin",
                    "slots": ["2026-12-01T08:00:00+01:00", "2026-12-01T08:15:00+01:00"],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, pk: str) -> Response:
        doctor = self.get_object()
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day, duration = query.validated_data["date"], query.validated_data["duration"]
        slots = free_starts(doctor=doctor, day=day, duration_minutes=duration, now=timezone.now())
        body = {
            "doctor_id": doctor.pk,
            "date": day,
            "duration_minutes": duration,
            "slot_minutes": settings.SCHEDULING_SLOT_MINUTES,
            "time_zone": settings.CLINIC_TIME_ZONE,
            "slots": slots,
        }
        return Response(AvailabilitySerializer(body).data)
