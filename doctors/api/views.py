from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from appointments.availability import free_starts
from audit.models import Action
from audit.views import Audited
from core.permissions import Configuration
from doctors.api.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    DoctorAppointmentSerializer,
    DoctorSerializer,
    DoctorStatusSerializer,
)
from doctors.filters import DoctorFilterSet
from doctors.models import Doctor
from doctors.services import doctor_create, doctor_delete, doctor_toggle_status, doctor_update

DUPLICATE = "`duplicate_email`: another doctor has this email; `user_already_linked`."


@extend_schema_view(
    list=extend_schema(summary="List and search doctors"),
    create=extend_schema(summary="Add a doctor"),
    retrieve=extend_schema(summary="Get a doctor"),
    update=extend_schema(summary="Replace a doctor's details"),
    partial_update=extend_schema(summary="Change some of a doctor's details"),
    destroy=extend_schema(summary="Delete a doctor who never had an appointment"),
)
class DoctorViewSet(Audited, viewsets.ModelViewSet[Doctor]):
    queryset = Doctor.objects.all()
    serializer_class = DoctorSerializer
    filterset_class = DoctorFilterSet
    permission_classes = [Configuration]
    ordering_fields = ["full_name", "specialty", "created_at"]
    ordering = ["full_name"]
    audit_actions = {"toggle_status": Action.UPDATE, "availability": Action.VIEW}
    error_statuses = {
        "create": {409: DUPLICATE},
        "update": {409: DUPLICATE},
        "partial_update": {409: DUPLICATE},
        "destroy": {409: "`has_appointments`: the doctor has appointments (see `appointments`)."},
    }

    def perform_create(self, serializer: BaseSerializer[Doctor]) -> None:
        serializer.instance = doctor_create(**serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Doctor]) -> None:
        assert serializer.instance is not None
        serializer.instance = doctor_update(doctor=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Doctor) -> None:
        doctor_delete(doctor=instance)

    @extend_schema(
        summary="Activate or deactivate a doctor",
        description="Flips `is_active`. Deactivating cancels nothing: the response lists the "
        "scheduled appointments from now on, which need another doctor.",
        request=None,
        responses=DoctorStatusSerializer,
    )
    @action(detail=True, methods=["post", "put"], url_path="toggle-status")
    def toggle_status(self, request: Request, pk: str | None = None) -> Response:
        change = doctor_toggle_status(doctor=self.get_object())
        future = DoctorAppointmentSerializer(change.future_appointments, many=True).data
        return Response({**DoctorSerializer(change.doctor).data, "future_appointments": future})

    @extend_schema(
        summary="Free start times of a doctor on a day",
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
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def availability(self, request: Request, pk: str | None = None) -> Response:
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
