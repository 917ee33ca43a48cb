from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import ErrorCode
from core.filters import flag_param
from core.permissions import ProviderAction
from core.schema import error_response
from core.views import ReplicaReads
from interactions.api.serializers import (
    InteractionAmendSerializer,
    InteractionCreateSerializer,
    InteractionRetractSerializer,
    InteractionSerializer,
)
from interactions.errors import InteractionErrorCode
from interactions.filters import InteractionFilterSet, PatientInteractionFilterSet
from interactions.models import Interaction, InteractionStatus
from interactions.services import interaction_amend, interaction_record, interaction_retract
from patients.models import Patient

INCLUDE_HISTORY = OpenApiParameter(
    "include_history",
    OpenApiTypes.BOOL,
    description="Also list amended and retracted entries (default `false`: current only). "
    "A `status` filter implies it.",
)
NOT_CURRENT: dict[ErrorCode, str] = {
    InteractionErrorCode.NOT_CURRENT: "the entry has already been amended or retracted."
}
NOT_CURRENT_EXAMPLE = OpenApiExample(
    "Already amended",
    value={
        "code": "not_current",
        "detail": "Only a current entry can be amended; this one is amended.",
        "errors": [],
        "request_id": "4f2c0a9b1d3e4f5a",
        "status": "amended",
    },
    status_codes=["409"],
    response_only=True,
)
LIST_DESCRIPTION = (
    "Chronological (oldest first by `occurred_at`, then `id`); `?ordering=-occurred_at` "
    "for newest first. Current entries only unless `include_history=true`."
)


def _history(view: viewsets.GenericViewSet[Interaction]) -> QuerySet[Interaction]:
    queryset = Interaction.objects.select_related(
        "outcome", "recorded_by", "retracted_by", "amended_by"
    )
    listing = view.action == "list"
    request = view.request
    if (
        listing
        and not flag_param(request, "include_history")
        and "status" not in (request.query_params)
    ):
        queryset = queryset.filter(status=InteractionStatus.CURRENT)
    return queryset


@extend_schema_view(
    list=extend_schema(
        summary="List interactions (a patient's history with ?patient_id=)",
        description=LIST_DESCRIPTION,
        parameters=[INCLUDE_HISTORY],
    ),
    retrieve=extend_schema(
        summary="Get an interaction, whatever its status (with its amendment chain)"
    ),
)
class InteractionViewSet(
    ReplicaReads,
    Audited,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Interaction],
):
    """Immutable: no PUT, PATCH or DELETE (405); corrections are `amend` and `retract`."""

    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet
    permission_classes = [ProviderAction]
    ordering_fields = ["occurred_at", "recorded_at"]
    ordering = ["occurred_at"]
    error_statuses = {"amend": {409: NOT_CURRENT}, "retract": {409: NOT_CURRENT}}
    audit_actions = {"amend": Action.AMEND, "retract": Action.RETRACT}

    def get_queryset(self) -> QuerySet[Interaction]:
        return _history(self)

    @extend_schema(
        summary="Record an interaction",
        description="Unknown patient, doctor or appointment, an unknown or inactive "
        f"outcome (`{InteractionErrorCode.OUTCOME_INACTIVE}`), an appointment of another "
        "patient, a future or naive `occurred_at`, or notes over 20,000 characters are 400s "
        "naming the field.",
        request=InteractionCreateSerializer,
        responses={201: InteractionSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = InteractionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interaction = interaction_record(**body.validated_data, actor=actor_of(request))
        return Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Amend: record a corrected entry that replaces this one",
        description="Creates a new entry (`amends` = this id) from the corrected fields, "
        "copying the rest, and marks this entry `amended`. Only a current entry can be "
        "amended.",
        request=InteractionAmendSerializer,
        responses={
            201: InteractionSerializer,
            409: error_response(409, NOT_CURRENT, examples=[NOT_CURRENT_EXAMPLE]),
        },
    )
    @action(detail=True, methods=["post"])
    def amend(self, request: Request, pk: str | None = None) -> Response:
        body = InteractionAmendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        amendment = interaction_amend(
            interaction=self.get_object(), actor=actor_of(request), **body.validated_data
        )
        return Response(InteractionSerializer(amendment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Retract: mark this entry as entered in error",
        description="Sets `status` to `entered_in_error` with the reason; nothing is deleted.",
        request=InteractionRetractSerializer,
        responses={
            200: InteractionSerializer,
            409: error_response(409, NOT_CURRENT, examples=[NOT_CURRENT_EXAMPLE]),
        },
    )
    @action(detail=True, methods=["post"])
    def retract(self, request: Request, pk: str | None = None) -> Response:
        body = InteractionRetractSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        retracted = interaction_retract(
            interaction=self.get_object(),
            reason=body.validated_data["reason"],
            actor=actor_of(request),
        )
        return Response(InteractionSerializer(retracted).data)


@extend_schema_view(
    list=extend_schema(
        summary="A patient's interaction history",
        description=LIST_DESCRIPTION,
        parameters=[
            OpenApiParameter("patient_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            INCLUDE_HISTORY,
        ],
    )
)
class PatientInteractionViewSet(
    ReplicaReads, Audited, mixins.ListModelMixin, viewsets.GenericViewSet[Interaction]
):
    serializer_class = InteractionSerializer
    filterset_class = PatientInteractionFilterSet
    permission_classes = [ProviderAction]
    ordering_fields = ["occurred_at", "recorded_at"]
    ordering = ["occurred_at"]

    def get_queryset(self) -> QuerySet[Interaction]:
        if getattr(self, "swagger_fake_view", False):
            return Interaction.objects.none()
        patient = get_object_or_404(Patient.objects.only("pk"), pk=self.kwargs["patient_id"])
        return _history(self).filter(patient=patient)
