from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern

from transfers.admin_views import import_urls
from transfers.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin[ImportJob]):
    """Import jobs, read-only; the import page itself is in transfers.admin_views."""

    list_display = [
        "created_at",
        "kind",
        "status",
        "total_rows",
        "processed_rows",
        "created",
        "updated",
        "skipped",
        "created_by",
    ]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    exclude = ["errors"]

    def get_urls(self) -> list[URLPattern]:
        return [*import_urls(self), *super().get_urls()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False
