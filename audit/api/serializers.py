from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent


class AuditActorSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    role = serializers.CharField(help_text="Viewer, Provider or Admin; empty when anonymous.")


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.SerializerMethodField()
    returned_ids = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="For lists, searches and timelines: the patients the response showed.",
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "at",
            "actor",
            "action",
            "resource_type",
            "resource_id",
            "patient_id",
            "returned_ids",
            "row_count",
            "request_id",
            "ip",
            "user_agent",
            "status_code",
            "reason",
            "break_glass",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    @extend_schema_field(AuditActorSerializer(allow_null=True))
    def get_actor(self, event: AuditEvent) -> dict[str, Any] | None:
        if event.actor_id is None and not event.actor_username:
            return None
        return {
            "id": event.actor_id,
            "username": event.actor_username,
            "role": event.actor_role,
        }


class FieldChangeSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    resource_type = serializers.CharField(
        help_text="patient, appointment or note (metadata only: never the note's text)."
    )
    resource_id = serializers.CharField()
    change = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    actor = AuditActorSerializer(allow_null=True)
    changes = FieldChangeSerializer(many=True)
