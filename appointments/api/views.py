from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from appointments.api.serializers import AppointmentCancelSerializer, AppointmentSerializer
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
from core.permissions import ClinicalRecord
from core.schema import ErrorSerializer

BOOKING_CONFLICT = (
    "`doctor_inactive`; `doctor_conflict` or `patient_conflict`: the slot overlaps a "
    "scheduled appointment; the body adds `conflicting_appointment_id` and "
    "`next_available` (up to three free start times)."
)
NOT_SCHEDULED = "`already_cancelled` or `not_scheduled`: the appointment is not scheduled."
NOT_STARTED = NOT_SCHEDULED + " `not_started`: it has not started yet."

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
    409: OpenApiResponse(
        ErrorSerializer, description=BOOKING_CONFLICT, examples=[CONFLICT_EXAMPLE]
    ),
}


@extend_schema_view(
    list=extend_schema(summary="List appointments (filter by day, doctor, patient, status)"),
    create=extend_schema(summary="Book an appointment", responses=BOOKED),
    retrieve=extend_schema(summary="Get an appointment"),
    partial_update=extend_schema(
        summary="Reschedule or change the reason",
        description="A change of `start_time`, `duration_minutes`, `doctor_id` or "
        "`patient_id` re-checks every booking rule; only scheduled appointments move.",
        responses={200: AppointmentSerializer, 409: BOOKED[409]},
    ),
    destroy=extend_schema(summary="Delete an appointment without clinical records (Admin)"),
)
class AppointmentViewSet(Audited, viewsets.ModelViewSet[Appointment]):
    queryset = Appointment.objects.select_related("patient", "doctor", "created_by")
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilterSet
    permission_classes = [ClinicalRecord]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["start_time", "end_time", "created_at", "status"]
    ordering = ["start_time"]
    audit_actions = {"cancel": Action.UPDATE, "complete": Action.UPDATE, "no_show": Action.UPDATE}
    error_statuses = {
        "partial_update": {409: BOOKING_CONFLICT + " " + NOT_SCHEDULED},
        "destroy": {409: "`appointment_has_records`: clinical records refer to it."},
        "cancel": {409: NOT_SCHEDULED},
        "complete": {409: NOT_STARTED},
        "no_show": {409: NOT_STARTED},
    }

    def perform_create(self, serializer: BaseSerializer[Appointment]) -> None:
        serializer.instance = appointment_book(
            **serializer.validated_data, booked_by=self.request.user
        )

    def perform_update(self, serializer: BaseSerializer[Appointment]) -> None:
        assert serializer.instance is not None
        serializer.instance = appointment_reschedule(
            appointment=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Appointment) -> None:
        appointment_delete(appointment=instance)

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
            appointment=self.get_object(), reason=body.validated_data["reason"]
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
            AppointmentSerializer(appointment_complete(appointment=self.get_object())).data
        )

    @extend_schema(
        summary="Mark a started appointment a no-show",
        request=None,
        responses=AppointmentSerializer,
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str | None = None) -> Response:
        return Response(
            AppointmentSerializer(appointment_mark_no_show(appointment=self.get_object())).data
        )
