from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, pagination, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from audit.api.serializers import AuditEventSerializer, HistoryEntrySerializer
from audit.filters import AuditEventFilterSet
from audit.history import patient_history
from audit.models import PATIENT_MODEL, Action, AuditEvent, model_for
from audit.spool import spool
from audit.views import Audited
from core.pagination import PageNumberPagination
from core.permissions import AdminOnly

PATIENT_PK = OpenApiParameter(
    "patient_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The patient's id."
)


def _drain_own_spool() -> None:
    """Reads this process spooled show up at once (other processes' within
    AUDIT_SPOOL_FLUSH_SECONDS)."""
    if settings.AUDIT_READ_MODE == "spool":
        spool.flush()


class AuditCursorPagination(pagination.CursorPagination):
    """Newest first by chain position; ``next``/``previous`` are opaque cursors, so new
    events arriving while paging never shift later pages."""

    ordering = "-seq"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    list=extend_schema(
        summary="The audit trail (Admin)",
        description="Every recorded access to patient data, sign-in and refusal, newest "
        "first, cursor-paginated: follow `next` until it is null. `patient_id` matches "
        "events about the patient and events whose result listed them.",
        tags=["audit"],
    )
)
class AuditEventViewSet(Audited, mixins.ListModelMixin, viewsets.GenericViewSet[AuditEvent]):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    filter_backends = [DjangoFilterBackend]
    permission_classes = [AdminOnly]
    pagination_class = AuditCursorPagination
    audit_resource = "audit_event"
    audit_reason_exempt = True

    def get_queryset(self) -> QuerySet[AuditEvent]:
        _drain_own_spool()
        return AuditEvent.objects.all()


class PatientAccessLogView(Audited, GenericAPIView[AuditEvent]):
    """``GET /patients/{id}/access-log/``: who viewed or changed this record."""

    serializer_class = AuditEventSerializer
    permission_classes = [AdminOnly]
    pagination_class = AuditCursorPagination
    filterset_class = AuditEventFilterSet
    filter_backends = [DjangoFilterBackend]
    audit_resource = "access_log"
    audit_model = AuditEvent
    audit_actions = {"get": Action.LIST}
    audit_reason_exempt = True

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        patients = model_for(PATIENT_MODEL)._default_manager
        patient = get_object_or_404(patients.only("pk"), pk=self.kwargs["patient_pk"])
        _drain_own_spool()
        return AuditEvent.objects.for_patient(patient.pk)

    @extend_schema(
        summary="Who viewed or changed this patient's record (Admin)",
        description="Every event about the patient (reads, writes, downloads, refusals) and "
        "every list or search whose result included them, newest first, cursor-paginated. "
        "The same filters as `/audit-events/` apply.",
        tags=["audit"],
        parameters=[PATIENT_PK],
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = self.get_serializer(page, many=True).data
        return self.get_paginated_response(data)


class PatientHistoryView(Audited, GenericAPIView[Any]):
    """``GET /patients/{id}/history/``: field-level changes to the patient's record."""

    queryset = model_for(PATIENT_MODEL)._default_manager.all()
    serializer_class = HistoryEntrySerializer
    permission_classes = [AdminOnly]
    pagination_class = PageNumberPagination
    lookup_url_kwarg = "patient_pk"
    audit_resource = "history"
    audit_actions = {"get": Action.VIEW}
    audit_reason_exempt = True

    @extend_schema(
        summary="Change history of a patient's record (Admin)",
        description="Who changed which field from what to what, and when: the patient's "
        "demographics, their appointments and their notes' metadata (never note text). "
        "Newest first.",
        tags=["audit"],
        parameters=[PATIENT_PK],
        responses=HistoryEntrySerializer(many=True),
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        patient = self.get_object()
        page = self.paginate_queryset(patient_history(patient.pk))
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    def filter_queryset(self, queryset: Any) -> Any:
        return queryset
