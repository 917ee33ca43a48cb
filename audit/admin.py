"""The audit trail and the change history in the console: read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.history import record_changes
from audit.models import HISTORY_MODELS, AuditEvent, model_for


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "at",
        "actor_username",
        "actor_role",
        "action",
        "resource_type",
        "resource_id",
        "patient_id",
        "status_code",
        "ip",
        "break_glass",
    ]
    list_filter = ["action", "resource_type", "actor_role", "break_glass"]
    search_fields = ["=actor_username", "=patient_id", "=resource_id", "=request_id"]
    date_hierarchy = "at"
    show_full_result_count = False


class HistoryAdmin(ReadOnlyAdmin):
    """One historical model: who changed what, field by field."""

    list_display = ["history_date", "history_type", "object_id", "history_user", "changed"]
    list_filter = ["history_type"]
    list_select_related = ["history_user"]

    @admin.display(description="object")
    def object_id(self, record: Any) -> str:
        return str(record.id)

    @admin.display(description="changes")
    def changed(self, record: Any) -> str:
        previous = record.prev_record
        parts = []
        for change in record_changes(record, previous):
            parts.append(f"{change['field']}: {change['old']!r} → {change['new']!r}")
        return "; ".join(parts)


def _register_history_admins() -> None:
    for label in HISTORY_MODELS:
        model = model_for(label)
        historical = model.history.model  # type: ignore[attr-defined]
        admin.site.register(historical, HistoryAdmin)


_register_history_admins()
