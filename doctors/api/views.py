from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import CoreErrorCode
from core.permissions import Configuration
from doctors.api.serializers import (
    DoctorAppointmentSerializer,
    DoctorSerializer,
    DoctorStatusSerializer,
)
from doctors.errors import DoctorErrorCode
from doctors.filters import DoctorFilterSet
from doctors.models import Doctor
from doctors.services import doctor_create, doctor_delete, doctor_toggle_status, doctor_update

DUPLICATE = {
    DoctorErrorCode.DUPLICATE_EMAIL: "another doctor has this email.",
    DoctorErrorCode.USER_ALREADY_LINKED: "the user account belongs to another doctor.",
}


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
    audit_actions = {"toggle_status": Action.UPDATE}
    error_statuses = {
        "create": {409: DUPLICATE},
        "update": {409: DUPLICATE},
        "partial_update": {409: DUPLICATE},
        "destroy": {
            409: {
                CoreErrorCode.HAS_DEPENDENTS: "the doctor has appointments "
                "(`dependents.appointments`: how many); deactivate them instead."
            }
        },
    }

    def perform_create(self, serializer: BaseSerializer[Doctor]) -> None:
        serializer.instance = doctor_create(
            **serializer.validated_data, actor=actor_of(self.request)
        )

    def perform_update(self, serializer: BaseSerializer[Doctor]) -> None:
        assert serializer.instance is not None
        serializer.instance = doctor_update(
            doctor=serializer.instance, actor=actor_of(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance: Doctor) -> None:
        doctor_delete(doctor=instance, actor=actor_of(self.request))

    @extend_schema(
        summary="Activate or deactivate a doctor",
        description="Flips `is_active`. Deactivating cancels nothing: the response lists the "
        "scheduled appointments from now on, which need another doctor.",
        request=None,
        responses=DoctorStatusSerializer,
    )
    @action(detail=True, methods=["post", "put"], url_path="toggle-status")
    def toggle_status(self, request: Request, pk: str | None = None) -> Response:
        change = doctor_toggle_status(doctor=self.get_object(), actor=actor_of(request))
        future = DoctorAppointmentSerializer(change.future_appointments, many=True).data
        return Response({**DoctorSerializer(change.doctor).data, "future_appointments": future})
