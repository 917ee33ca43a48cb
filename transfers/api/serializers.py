from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from transfers.models import ImportJob


class ImportRequestSerializer(serializers.Serializer[Any]):
    """The upload (``multipart/form-data``). Options may also be query parameters."""

    file = serializers.FileField(
        help_text="CSV (header row; comma or semicolon; UTF-8, BOM allowed), a JSON array "
        "of objects, or NDJSON; recognised by content. At most IMPORT_MAX_FILE_MB."
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Validate everything, write nothing."
    )
    mode = serializers.ChoiceField(
        choices=["create", "upsert"],
        required=False,
        default="create",
        help_text="`upsert` (patients only) updates the patient matched by `mrn`, "
        "`external_id` or `id`, and creates the rest.",
    )
    on_error = serializers.ChoiceField(
        choices=["abort", "skip"],
        required=False,
        default="abort",
        help_text="`abort` (default): one invalid row and nothing is written. `skip`: "
        "write the valid rows, report the rest.",
    )
    ignore_unknown_columns = serializers.BooleanField(required=False, default=False)
    keep_mrn = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Patients: create with the file's `mrn` instead of a new one (refused "
        "when another patient has it).",
    )


class RowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="The line in the file where the row starts.")
    field = serializers.CharField()
    code = serializers.CharField()
    detail = serializers.CharField()


class ImportReportSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    format = serializers.CharField()
    options = serializers.DictField()
    total_rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(
        help_text="Upsert rows that matched and differed in nothing."
    )
    skipped = serializers.IntegerField(help_text="Invalid rows (not written).")
    written = serializers.BooleanField(help_text="False for a dry run.")
    error_count = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)  # type: ignore[assignment]


class ErrorPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RowErrorSerializer(many=True)


class ImportJobSerializer(serializers.ModelSerializer[ImportJob]):
    format = serializers.CharField(source="file_format")
    error_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The row problems, paginated with ?page=&page_size= (default 20, max 100)."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "file_name",
            "format",
            "options",
            "total_rows",
            "processed_rows",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "error_count",
            "errors",
            "failure_code",
            "failure_detail",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_error_count(self, job: ImportJob) -> int:
        return len(job.errors)

    @extend_schema_field(ErrorPageSerializer)
    def get_errors(self, job: ImportJob) -> dict[str, Any]:
        from core.pagination import PageNumberPagination

        request = self.context.get("request")
        if request is None:
            return {
                "count": len(job.errors),
                "next": None,
                "previous": None,
                "results": job.errors[:20],
            }
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(job.errors, request)
        return {
            "count": len(job.errors),
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": list(page or []),
        }


class ImportJobListSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [f for f in ImportJobSerializer.Meta.fields if f != "errors"]
        read_only_fields = fields
