from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.urls import replace_query_param

from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import CoreErrorCode
from core.permissions import ClinicalRecord
from core.views import ReplicaReads
from patients.api.serializers import (
    PatientSerializer,
    TimelinePageSerializer,
    TimelineQuerySerializer,
)
from patients.errors import PatientErrorCode
from patients.filters import PatientFilterSet
from patients.models import Patient
from patients.services import patient_create, patient_delete, patient_update
from patients.timeline import encode_cursor, timeline_page

DUPLICATE = {PatientErrorCode.DUPLICATE_EMAIL: "another patient has this email."}
DEPENDENTS = (
    "the patient has clinical records (`dependents`: how many appointments, "
    "interactions, notes, ...)."
)


@extend_schema_view(
    list=extend_schema(summary="List and search patients"),
    create=extend_schema(summary="Register a patient (MRN assigned by the server)"),
    retrieve=extend_schema(summary="Get a patient"),
    update=extend_schema(summary="Replace a patient's demographics"),
    partial_update=extend_schema(summary="Change some demographics"),
    destroy=extend_schema(summary="Delete a patient with no clinical records"),
)
class PatientViewSet(ReplicaReads, Audited, viewsets.ModelViewSet[Patient]):
    queryset = Patient.objects.select_related("latest__outcome")
    serializer_class = PatientSerializer
    filterset_class = PatientFilterSet
    permission_classes = [ClinicalRecord]
    ordering_fields = ["last_name", "first_name", "date_of_birth", "created_at", "mrn"]
    ordering = ["last_name", "first_name"]
    audit_actions = {"timeline": (Action.VIEW, "timeline")}
    replica_actions = frozenset({"list", "timeline"})
    error_statuses = {
        "create": {409: DUPLICATE},
        "update": {409: DUPLICATE},
        "partial_update": {409: DUPLICATE},
        "destroy": {409: {CoreErrorCode.HAS_DEPENDENTS: DEPENDENTS}},
    }

    def perform_create(self, serializer: BaseSerializer[Patient]) -> None:
        serializer.instance = patient_create(
            **serializer.validated_data, actor=actor_of(self.request)
        )

    def perform_update(self, serializer: BaseSerializer[Patient]) -> None:
        assert serializer.instance is not None
        serializer.instance = patient_update(
            patient=serializer.instance, actor=actor_of(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance: Patient) -> None:
        patient_delete(patient=instance, actor=actor_of(self.request))

    @extend_schema(
        summary="The patient's timeline: appointments, interactions, ... newest first",
        description="One feed of every item type, ordered by `at` then `id`, newest first, "
        "cursor-paginated: follow `next` (an opaque `cursor`) until it is null. The cursor "
        "is a position, not an offset, so items added while paging never repeat or shift "
        "later pages. Interactions appear as their current entries.",
        parameters=[TimelineQuerySerializer],
        responses=TimelinePageSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        params = TimelineQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        items, last = timeline_page(
            self.get_object(),
            types=query.get("type"),
            before=query.get("cursor"),
            start=query.get("start"),
            end=query.get("end"),
            page_size=query["page_size"],
        )
        next_url = None
        if last is not None:
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", encode_cursor(last)
            )
        return Response(TimelinePageSerializer({"next": next_url, "results": items}).data)
