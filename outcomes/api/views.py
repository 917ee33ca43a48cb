from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from audit.views import Audited
from core.actors import actor_of
from core.errors import CoreErrorCode
from core.filters import flag_param
from core.permissions import Configuration
from outcomes.api.serializers import OutcomeSerializer
from outcomes.errors import OutcomeErrorCode
from outcomes.models import CODE_PATTERN, Outcome, OutcomeQuerySet
from outcomes.services import outcome_create, outcome_delete, outcome_update

INCLUDE_INACTIVE = OpenApiParameter(
    "include_inactive",
    OpenApiTypes.BOOL,
    description="Also list inactive outcomes (default `false`: active only).",
)
CODE_IMMUTABLE = (
    f"`{OutcomeErrorCode.CODE_IMMUTABLE}` (in `errors`) when the body carries a different `code`."
)


@extend_schema_view(
    list=extend_schema(summary="List outcomes", parameters=[INCLUDE_INACTIVE]),
    create=extend_schema(summary="Add an outcome (Admin)"),
    retrieve=extend_schema(summary="Get an outcome (active or not)"),
    update=extend_schema(summary="Replace an outcome's label and settings (Admin)"),
    partial_update=extend_schema(
        summary="Relabel, reorder or (de)activate an outcome (Admin)",
        description="The `code` cannot change: " + CODE_IMMUTABLE,
    ),
    destroy=extend_schema(summary="Delete an unused outcome (Admin)"),
)
class OutcomeViewSet(Audited, viewsets.ModelViewSet[Outcome]):
    queryset = Outcome.objects.all()
    serializer_class = OutcomeSerializer
    permission_classes = [Configuration]
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN.strip("^$")
    ordering_fields = ["sort_order", "severity", "code", "label"]
    ordering = ["sort_order", "severity", "code"]
    error_statuses = {
        "create": {
            409: {OutcomeErrorCode.DUPLICATE_CODE: "an outcome with this code exists (any case)."}
        },
        "destroy": {
            409: {
                CoreErrorCode.HAS_DEPENDENTS: "interactions use it (`dependents`); "
                "deactivate it instead."
            }
        },
    }

    def get_queryset(self) -> OutcomeQuerySet:
        queryset = Outcome.objects.all()
        if self.action == "list" and not flag_param(self.request, "include_inactive"):
            queryset = queryset.active()
        return queryset

    def perform_create(self, serializer: BaseSerializer[Outcome]) -> None:
        serializer.instance = outcome_create(
            **serializer.validated_data, actor=actor_of(self.request)
        )

    def perform_update(self, serializer: BaseSerializer[Outcome]) -> None:
        assert serializer.instance is not None
        serializer.instance = outcome_update(
            outcome=serializer.instance, actor=actor_of(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance: Outcome) -> None:
        outcome_delete(outcome=instance, actor=actor_of(self.request))
