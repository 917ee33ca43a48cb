from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.serializers import StrictFieldsMixin, reject_nul
from outcomes.models import MAX_SEVERITY, Outcome

OUTCOME_EXAMPLE = {
    "code": "critical",
    "label": "Critical",
    "description": "Needs urgent attention.",
    "severity": 2,
    "is_active": True,
    "sort_order": 2,
    "created_at": "2026-01-05T09:00:00Z",
    "updated_at": "2026-01-05T09:00:00Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "New outcome",
            value={
                "code": "follow-up",
                "label": "Follow-up needed",
                "description": "Book a follow-up visit within two weeks.",
                "severity": 1,
                "sort_order": 15,
            },
            request_only=True,
        ),
        OpenApiExample("Outcome", value=OUTCOME_EXAMPLE, response_only=True),
    ]
)
class OutcomeSerializer(StrictFieldsMixin, serializers.ModelSerializer[Outcome]):
    """An outcome. ``code`` is set on creation (stored lower-case) and never changes."""

    # Format, duplicates and immutability are checked by the services (400/409 there).
    code = serializers.CharField(
        max_length=50,
        help_text="1-50 characters `[a-z0-9_-]`, starting with a letter or digit; "
        "stored lower-case; immutable.",
    )
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=100, validators=[reject_nul]
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, validators=[reject_nul]
    )
    severity = serializers.IntegerField(
        min_value=0, max_value=MAX_SEVERITY, help_text="Higher is worse."
    )

    class Meta:
        model = Outcome
        fields = [
            "code",
            "label",
            "description",
            "severity",
            "is_active",
            "sort_order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []
