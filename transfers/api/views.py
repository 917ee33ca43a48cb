from __future__ import annotations

from typing import Any, ClassVar, cast

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import error_body
from core.filters import flag_param
from core.permissions import AdminOnly
from interactions.filters import InteractionFilterSet
from patients.filters import PatientFilterSet
from transfers import exporting
from transfers.api.serializers import (
    ImportJobListSerializer,
    ImportJobSerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
)
from transfers.audit_hook import record_transfer
from transfers.errors import TransferErrorCode as Code
from transfers.formats import CONTENT_TYPES, FileRejected
from transfers.importing import ImportOptions, ImportReport
from transfers.models import ImportJob
from transfers.services import import_job_retry, import_submit
from transfers.uploads import ImportMultiPartParser

IMPORT_ERRORS = {
    "post": {
        400: "`import_rejected` (rows invalid: nothing written; `errors` lists "
        "`{row, field, code, detail}`), `missing_columns`, `unknown_columns`, "
        "`malformed_file`, `empty_file`, `invalid_option`, `validation_error` (no file).",
        409: "`import_conflict`: a concurrent write took an identifier; nothing written.",
        413: "`file_too_large`: over IMPORT_MAX_FILE_MB (default 100).",
        415: "`unsupported_file_type`: not CSV, JSON or NDJSON text.",
        503: "`queue_unavailable`: a large file could not be queued as a job; nothing kept.",
    }
}
EXPORT_ERRORS = {
    "get": {
        400: "`invalid_option`: unknown `format` or `fields`, or contact fields without "
        "`include_contact=true`; `validation_error`: an invalid filter."
    }
}


def rejected(exc: FileRejected) -> Response:
    return Response(error_body(exc.code, exc.detail, **exc.context), status=exc.status)


def _options(request: Request) -> ImportOptions:
    """Options from the form fields, or from the query string."""
    data: Any = request.data
    merged = {**request.query_params.dict(), **{k: data.get(k) for k in data}}
    body = ImportRequestSerializer(data=merged)
    body.is_valid(raise_exception=True)
    values = dict(body.validated_data)
    values.pop("file")
    return ImportOptions(**values)


class ImportView(Audited, GenericAPIView[Any]):
    """``POST /api/v1/{kind}/import/``. A file that is imported (or dry-run) is recorded by
    ``record_transfer`` with its row count; one refused outright gets the mixin's event."""

    kind: ClassVar[str]
    permission_classes = [AdminOnly]
    parser_classes = [ImportMultiPartParser]
    serializer_class = ImportRequestSerializer
    error_statuses = IMPORT_ERRORS

    def post(self, request: Request) -> Response:
        options = _options(request)
        upload = cast(Any, request.data)["file"]
        try:
            outcome = import_submit(
                kind=self.kind,
                data=upload.read(),
                file_name=upload.name or "",
                options=options,
                actor=actor_of(request),
                request=request._request,
            )
        except FileRejected as exc:
            return rejected(exc)
        if isinstance(outcome, ImportJob):
            job = ImportJobSerializer(outcome, context={"request": request}).data
            return Response(
                job,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": f"/api/v1/imports/{outcome.pk}/"},
            )
        return self._report(outcome)

    @staticmethod
    def _report(report: ImportReport) -> Response:
        body = report.as_dict()
        if report.errors and not report.written and not report.options.dry_run:
            errors = body.pop("errors")
            return Response(
                error_body(
                    Code.IMPORT_REJECTED,
                    f"{len(errors)} problem(s) in the file; nothing was imported "
                    "(on_error=skip writes the valid rows).",
                    errors,
                    report=body,
                ),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(body)


_IMPORT_DOC = (
    "Upload a file (`multipart/form-data`, field `file`). Up to IMPORT_SYNC_MAX_ROWS "
    "(default 2,000) rows are imported within the request (200 with the report); larger "
    "files become an import job: 202 with `Location: /api/v1/imports/{id}/`. All or "
    "nothing unless `on_error=skip`. See docs/import-export.md for the columns."
)


@extend_schema(
    summary="Import patients from CSV, JSON or NDJSON (Admin)",
    description=_IMPORT_DOC,
    request={"multipart/form-data": ImportRequestSerializer},
    responses={200: ImportReportSerializer, 202: ImportJobSerializer},
)
class PatientImportView(ImportView):
    kind = "patients"
    audit_actions = {"post": (Action.IMPORT, "patient")}


@extend_schema(
    summary="Import interactions from CSV, JSON or NDJSON (Admin)",
    description=_IMPORT_DOC + " Interactions are create-only and name their patient by "
    "`patient_id`, `mrn` or `external_id`, their outcome by code.",
    request={"multipart/form-data": ImportRequestSerializer},
    responses={200: ImportReportSerializer, 202: ImportJobSerializer},
)
class InteractionImportView(ImportView):
    kind = "interactions"
    audit_actions = {"post": (Action.IMPORT, "interaction")}


EXPORT_PARAMETERS = [
    OpenApiParameter(
        "format", OpenApiTypes.STR, enum=["csv", "json", "ndjson"], description="Default csv."
    ),
    OpenApiParameter(
        "fields",
        OpenApiTypes.STR,
        description="Comma-separated columns, in this order (default: all but contact "
        "details). An unknown name is a 400.",
    ),
    OpenApiParameter(
        "include_contact",
        OpenApiTypes.BOOL,
        description="Include email and phone (default false: data minimisation).",
    ),
]
EXPORT_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="Streamed; `Content-Disposition: attachment; filename=<kind>-<date>.csv`. "
        "Cells that a spreadsheet would run as a formula start with an apostrophe.",
    ),
    (200, "application/json"): OpenApiResponse(OpenApiTypes.BINARY, description="An array."),
    (200, "application/x-ndjson"): OpenApiResponse(
        OpenApiTypes.BINARY, description="One object a line."
    ),
}


class ExportView(Audited, GenericAPIView[Any]):
    """``GET /api/v1/{kind}/export/``: the list endpoint's filters, streamed as a file.

    The stream records the export event when it ends (with the rows sent, also when the
    client goes away early); a refused export gets the mixin's event."""

    kind: ClassVar[str]
    permission_classes = [AdminOnly]
    pagination_class = None
    error_statuses = EXPORT_ERRORS

    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: Request) -> StreamingHttpResponse | Response:
        try:
            fmt = exporting.check_format(request.query_params.get("format", "csv"))
            raw_fields = request.query_params.get("fields")
            fields = [f.strip() for f in raw_fields.split(",") if f.strip()] if raw_fields else None
            columns = exporting.select_columns(
                self.kind, fields=fields, include_contact=flag_param(request, "include_contact")
            )
        except FileRejected as exc:
            return rejected(exc)
        queryset = self.filter_queryset(self.get_queryset())
        user = request.user

        def done(rows: int) -> None:
            record_transfer(
                actor=user,
                action="export",
                resource=self.kind,
                rows=rows,
                file_format=fmt,
                columns=[c.name for c in columns],
                filters=request.query_params.dict(),
                request=request._request,
                status_code=200,
            )

        response = StreamingHttpResponse(
            exporting.stream(queryset, columns, fmt, on_done=done),
            content_type=CONTENT_TYPES[fmt],
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{exporting.file_name(self.kind, fmt)}"'
        )
        response["Cache-Control"] = "no-store"
        request._request._audit_recorded = True  # type: ignore[attr-defined]  # by the stream
        return response


@extend_schema(
    summary="Export patients as CSV, JSON or NDJSON (Admin)",
    description="Accepts the filters of `GET /api/v1/patients/` (`search`, `gender`, ...). "
    "The columns re-import with `POST /api/v1/patients/import/`.",
    parameters=EXPORT_PARAMETERS,
    responses=EXPORT_RESPONSES,
    filters=True,
)
class PatientExportView(ExportView):
    kind = "patients"
    audit_actions = {"get": (Action.EXPORT, "patient")}
    filterset_class = PatientFilterSet
    ordering_fields = ["last_name", "first_name", "date_of_birth", "created_at", "mrn"]
    ordering = ["last_name", "first_name"]

    def get_queryset(self) -> QuerySet[Any]:
        return exporting.patients_queryset()


@extend_schema(
    summary="Export interactions as CSV, JSON or NDJSON (Admin)",
    description="Accepts the filters of `GET /api/v1/interactions/`; current entries only "
    "unless `include_history=true`.",
    parameters=[
        *EXPORT_PARAMETERS,
        OpenApiParameter(
            "include_history",
            OpenApiTypes.BOOL,
            description="Also amended and retracted entries (default false).",
        ),
    ],
    responses=EXPORT_RESPONSES,
    filters=True,
)
class InteractionExportView(ExportView):
    kind = "interactions"
    audit_actions = {"get": (Action.EXPORT, "interaction")}
    filterset_class = InteractionFilterSet
    ordering_fields = ["occurred_at", "recorded_at"]
    ordering = ["occurred_at"]

    def get_queryset(self) -> QuerySet[Any]:
        history = flag_param(self.request, "include_history") or (
            "status" in self.request.query_params
        )
        return exporting.interactions_queryset(include_history=history)


class ImportJobViewSet(
    Audited, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ImportJob]
):
    """Import jobs (files above IMPORT_SYNC_MAX_ROWS), newest first."""

    queryset = ImportJob.objects.all()
    audit_resource = "import_job"
    audit_actions = {"retry": Action.UPDATE}
    serializer_class = ImportJobSerializer
    permission_classes = [AdminOnly]
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    error_statuses = {
        "retry": {
            409: "`job_not_retryable`: only a failed job can be retried.",
            503: "`queue_unavailable`: the job queue is down; the job stays failed.",
        }
    }

    def get_serializer_class(self) -> Any:
        # A list item leaves out the errors (their paging would clash with the list's).
        return ImportJobListSerializer if self.action == "list" else ImportJobSerializer

    @extend_schema(summary="Import jobs, newest first (Admin)")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="An import job: status, progress, counts and its errors (paginated)",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, description="Page of `errors`."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Default 20, max 100."),
        ],
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Run a failed import job again (it wrote nothing)",
        request=None,
        responses={202: ImportJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = import_job_retry(job=self.get_object(), actor=actor_of(request))
        return Response(
            self.get_serializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/imports/{job.pk}/"},
        )
