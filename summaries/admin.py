from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import ApiError
from summaries.models import Summary
from summaries.services import summary_retry


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin[Summary]):
    """Read-only: summaries are made by the workers; the admin can only retry failed ones."""

    list_display = ("created_at", "patient", "audience", "length", "status", "provider", "model")
    list_filter = ("status", "audience", "length", "provider")
    search_fields = ("patient__mrn", "patient__last_name", "id")
    list_select_related = ("patient",)
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Summary | None = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed summaries")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Summary]) -> None:
        retried = 0
        for summary in queryset.filter(status="failed"):
            try:
                summary_retry(summary=summary)
            except ApiError as exc:
                self.message_user(request, f"{summary.pk}: {exc.detail}", messages.ERROR)
                return
            retried += 1
        self.message_user(request, f"{retried} summaries queued again.", messages.SUCCESS)
