from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer, TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.permissions import ProviderAction
from patients.models import Patient
from summaries.api.serializers import (
    CurrentSummaryQuerySerializer,
    CurrentSummarySerializer,
    SummaryRequestSerializer,
    SummarySerializer,
)
from summaries.errors import SummaryErrorCode
from summaries.filters import SummaryFilterSet
from summaries.models import Summary, SummaryStatus
from summaries.services import CurrentSummary, summary_current, summary_request, summary_retry

# What a client is told to wait before asking again for a job that is not finished.
RETRY_AFTER_SECONDS = 5

PATIENT_PK = OpenApiParameter(
    "patient_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The patient's id."
)
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[200, 202],
    description="The summary job: `GET /api/v1/summaries/{id}/`.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[202],
    description="Seconds to wait before asking again.",
)
QUEUE_DOWN = {
    SummaryErrorCode.QUEUE_UNAVAILABLE: "the job queue (broker) is down; nothing was queued."
}
FAILED = {
    SummaryErrorCode.SUMMARY_FAILED: "the newest job for the current record failed "
    "(`summary_id`, `error` in the body); a Provider retries it.",
    **QUEUE_DOWN,
}
NOT_READY = "Not ready yet: the job (queued or running) that will produce it."


def _is_pending(summary: Summary) -> bool:
    return summary.status in (SummaryStatus.QUEUED, SummaryStatus.RUNNING)


def _job_headers(request: Request, summary: Summary) -> dict[str, str]:
    headers = {
        "Location": request.build_absolute_uri(
            reverse("api:summary-detail", kwargs={"pk": summary.pk})
        )
    }
    if _is_pending(summary):
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return headers


def _job_response(request: Request, summary: Summary, data: Any) -> Response:
    """202 while the job is under way, 200 once it finished (its status says how)."""
    code = status.HTTP_202_ACCEPTED if _is_pending(summary) else status.HTTP_200_OK
    return Response(data, status=code, headers=_job_headers(request, summary))


@extend_schema_view(
    list=extend_schema(summary="List a patient's summaries, newest first", tags=["summaries"]),
    create=extend_schema(
        summary="Request a summary of the patient's record",
        description="Queues a summary job (202) unless one for the same options and the same "
        "record is already queued or running (202, that job) or succeeded (200, that "
        "summary). Poll the job at `Location`. With no broker configured (the embedded "
        "default) the job runs within the request and the answer is 200.",
        tags=["summaries"],
        request=SummaryRequestSerializer,
        responses={
            200: OpenApiResponse(SummarySerializer, description="An identical summary exists."),
            202: OpenApiResponse(SummarySerializer, description="The job, queued or running."),
        },
        parameters=[LOCATION, RETRY_AFTER],
    ),
)
@extend_schema(parameters=[PATIENT_PK])
class PatientSummaryViewSet(Audited, mixins.ListModelMixin, viewsets.GenericViewSet[Summary]):
    queryset = Summary.objects.select_related("requested_by")
    serializer_class = SummarySerializer
    filterset_class = SummaryFilterSet
    permission_classes = [ProviderAction]
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at"]
    error_statuses = {"create": {503: QUEUE_DOWN}}

    def get_patient(self) -> Patient:
        return get_object_or_404(Patient, pk=self.kwargs["patient_pk"])

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Summary.objects.none()
        return super().get_queryset().filter(patient=self.get_patient())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SummaryRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        summary, _ = summary_request(
            patient=self.get_patient(), **body.validated_data, actor=actor_of(request)
        )
        return _job_response(request, summary, SummarySerializer(summary).data)


@extend_schema_view(
    retrieve=extend_schema(summary="Get a summary job and, once it succeeded, its result"),
)
@extend_schema(tags=["summaries"])
class SummaryViewSet(Audited, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Summary]):
    queryset = Summary.objects.select_related("requested_by")
    serializer_class = SummarySerializer
    permission_classes = [ProviderAction]
    audit_actions = {"retry": Action.UPDATE}
    error_statuses = {
        "retry": {
            409: {SummaryErrorCode.SUMMARY_NOT_FAILED: "only a failed summary can be retried."},
            503: QUEUE_DOWN,
        }
    }

    @extend_schema(
        summary="Queue a failed summary again",
        description="The run rebuilds the patient's record, so the summary describes the "
        "record as it is when it runs.",
        request=None,
        responses={
            200: OpenApiResponse(SummarySerializer, description="It already ran (no broker)."),
            202: OpenApiResponse(SummarySerializer, description="Queued again."),
        },
        parameters=[LOCATION, RETRY_AFTER],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        summary = summary_retry(summary=self.get_object())
        return _job_response(request, summary, SummarySerializer(summary).data)


CURRENT_DESCRIPTION = (
    "200 with the newest succeeded summary of the patient's record as it is now. Otherwise "
    "a job is queued (idempotently, as with POST .../summaries/) and the answer is 202 with "
    "`Retry-After` and the job. With `allow_stale=true` the newest succeeded summary is "
    'returned even if the record changed since, with `"stale": true` (a fresh one is '
    "queued in the background). A failed job is never re-queued by reading: the answer is "
    "then 503 `summary_failed`. Every role may read, so a Viewer's GET may queue a job."
)


def _current(request: Request, patient_pk: str) -> tuple[CurrentSummary, dict[str, Any]]:
    query = CurrentSummaryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    current = summary_current(
        patient=get_object_or_404(Patient, pk=patient_pk),
        **query.validated_data,
        actor=actor_of(request),
    )
    return current, dict(query.validated_data)


class CurrentSummaryView(Audited, APIView):
    """``GET /patients/{id}/summary/``: the current summary, or the job producing it."""

    permission_classes = [ProviderAction]
    error_statuses = {"get": {503: FAILED}}
    audit_resource = "summary"
    audit_model = Summary

    @extend_schema(
        summary="Get the patient's current summary (queues one if needed)",
        description=CURRENT_DESCRIPTION,
        tags=["summaries"],
        parameters=[PATIENT_PK, CurrentSummaryQuerySerializer, LOCATION, RETRY_AFTER],
        responses={
            200: OpenApiResponse(CurrentSummarySerializer, description="The summary."),
            202: OpenApiResponse(CurrentSummarySerializer, description=NOT_READY),
        },
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        current, _ = _current(request, patient_pk)
        data = CurrentSummarySerializer(current.summary, context={"stale": current.stale}).data
        return _job_response(request, current.summary, data)


class FirstRendererNegotiation(BaseContentNegotiation):
    """The page is HTML whatever the Accept header says (errors are JSON, see below)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class CurrentSummaryPageView(Audited, APIView):
    """``GET /patients/{id}/summary.html``: the same rules as ``summary/``, as a printable
    page; a "being prepared" page that refreshes itself while the job runs."""

    permission_classes = [ProviderAction]
    renderer_classes = [TemplateHTMLRenderer]
    audit_resource = "summary"
    audit_model = Summary
    # No OPTIONS metadata: it would have to be rendered as HTML (405 instead).
    metadata_class = None
    content_negotiation_class = FirstRendererNegotiation
    error_statuses = {"get": {503: FAILED}}

    @extend_schema(
        summary="The patient's current summary as a printable HTML page",
        operation_id="api_v1_patients_summary_page",
        description=CURRENT_DESCRIPTION.replace("200 with", "200: a page with")
        + " While the job runs the answer is a 202 page that reloads itself. Errors are JSON.",
        tags=["summaries"],
        parameters=[PATIENT_PK, CurrentSummaryQuerySerializer, LOCATION, RETRY_AFTER],
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="The summary."),
            (202, "text/html"): OpenApiResponse(
                OpenApiTypes.STR, description="Being prepared; the page reloads itself."
            ),
        },
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        current, options = _current(request, patient_pk)
        summary = current.summary
        pending = _is_pending(summary)
        context = {
            "summary": summary,
            "result": summary.result or {},
            "stale": current.stale,
            "options": options,
            "refresh_seconds": RETRY_AFTER_SECONDS,
        }
        return Response(
            context,
            status=status.HTTP_202_ACCEPTED if pending else status.HTTP_200_OK,
            headers=_job_headers(request, summary),
            template_name=(
                "summaries/summary_pending.html" if pending else "summaries/summary.html"
            ),
        )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors keep the API's one JSON shape, even on the HTML page's URL.
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
