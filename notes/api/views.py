from __future__ import annotations

import json
from typing import Any

from django.http import FileResponse
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
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from accounts.errors import AccountErrorCode
from audit.models import Action
from audit.views import Audited
from core.actors import actor_of
from core.errors import CoreErrorCode, ErrorCode, ServiceUnavailable
from core.parsers import JSONParser
from core.permissions import ClinicalRecord, ProviderAction
from core.schema import ErrorDoc
from core.throttling import ClientIpScopedRateThrottle
from notes.api.serializers import (
    AddendumCreateSerializer,
    ClinicalDataSerializer,
    NoteCreateSerializer,
    NoteRetractSerializer,
    NoteSerializer,
    NoteSignSerializer,
    NoteUpdateSerializer,
    NoteUploadSerializer,
)
from notes.clinical_data import patient_clinical_data
from notes.errors import NoteErrorCode
from notes.files import CONTENT_TYPES
from notes.filters import NoteFilterSet
from notes.models import Note, Signature
from notes.services import (
    note_add_addendum,
    note_create_from_text,
    note_create_from_upload,
    note_delete,
    note_reprocess,
    note_retract,
    note_sign,
    note_update,
)
from notes.uploads import BoundedMultiPartParser, ensure_declared_length_allowed
from patients.models import Patient

UPLOAD_ERRORS: dict[int, ErrorDoc] = {
    400: {
        NoteErrorCode.EMPTY_FILE: "the file (or its text) is empty.",
        NoteErrorCode.INVALID_ENCODING: "text that is not UTF-8.",
        NoteErrorCode.UNREADABLE_FILE: "a PDF or image no reader can open.",
        NoteErrorCode.TOO_MANY_PAGES: "a PDF over NOTES_PDF_MAX_PAGES.",
        NoteErrorCode.IMAGE_TOO_LARGE: "an image frame over NOTES_MAX_IMAGE_PIXELS.",
        NoteErrorCode.TOO_MANY_FRAMES: "an image (e.g. a TIFF) over NOTES_MAX_IMAGE_FRAMES frames.",
    },
    413: {CoreErrorCode.REQUEST_TOO_LARGE: "the file is over NOTES_MAX_UPLOAD_MB (default 10 MB)."},
    415: {
        CoreErrorCode.UNSUPPORTED_MEDIA_TYPE: "the bytes are not text, Markdown, PDF, PNG, "
        "JPEG or TIFF (or the body is neither JSON nor multipart).",
        NoteErrorCode.CONTENT_TYPE_MISMATCH: "the declared type contradicts the bytes.",
    },
}
PATIENT_PARAM = OpenApiParameter(
    "patient_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The patient's id."
)
SIGNED: dict[ErrorCode, str] = {NoteErrorCode.NOTE_SIGNED: "signed notes never change."}
RETRACTED: dict[ErrorCode, str] = {NoteErrorCode.NOTE_RETRACTED: "the note was entered in error."}
LOCKED = {**SIGNED, **RETRACTED}
NOT_AUTHOR: dict[ErrorCode, str] = {
    NoteErrorCode.NOT_AUTHOR: "only the note's author or an Admin may."
}


def _with_details(note: Note) -> Note:
    """The note as stored now (processing may have run eagerly since it was created)."""
    return Note.objects.with_details().get(pk=note.pk)


# What GET .../file/ can answer: the content types intake records (notes.files).
DOWNLOAD_MEDIA_TYPES = sorted({ct.split(";")[0] for ct in CONTENT_TYPES.values()})


class AttachmentRenderer(BaseRenderer):
    """Lets a download answer whatever the client accepts; errors still render as JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode("utf-8")


@extend_schema(parameters=[PATIENT_PARAM])
@extend_schema_view(
    list=extend_schema(summary="List a patient's notes", tags=["notes"]),
    create=extend_schema(
        summary="Add a note: typed (JSON) or an uploaded file (multipart)",
        description=(
            "Send `application/json` with `content`, or `multipart/form-data` with a "
            "`file`. Files are recognised by their bytes: UTF-8 text or Markdown, PDF "
            "(text layer, or OCR for scans), PNG/JPEG/TIFF (OCR). Reading runs in a "
            "background task: the note comes back with `extraction_status: pending` "
            "(or already `done` when tasks run in-process). A scan stored while OCR is "
            "not installed gets `needs_transcription`; PATCH its `content` to transcribe."
        ),
        tags=["notes"],
        request={
            "application/json": NoteCreateSerializer,
            "multipart/form-data": NoteUploadSerializer,
        },
        responses={201: NoteSerializer},
    ),
)
class PatientNoteViewSet(Audited, mixins.ListModelMixin, viewsets.GenericViewSet[Note]):
    serializer_class = NoteSerializer
    filterset_class = NoteFilterSet
    permission_classes = [ClinicalRecord]
    parser_classes = [JSONParser, BoundedMultiPartParser]
    ordering_fields = ["taken_at"]
    ordering = ["-taken_at"]
    error_statuses = {"create": UPLOAD_ERRORS}

    def get_patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = get_object_or_404(Patient, pk=self.kwargs["patient_pk"])
        return self._patient

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Note.objects.none()
        return Note.objects.with_details().filter(patient=self.get_patient())

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            # Refuse an oversized body before anything reads it.
            ensure_declared_length_allowed(request.META)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_patient()
        if (request.content_type or "").startswith("multipart/"):
            upload = NoteUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            values = upload.validated_data
            file = values["file"]
            note = note_create_from_upload(
                patient=patient,
                actor=actor_of(request),
                taken_at=values["taken_at"],
                data=file.read(),
                file_name=file.name or "",
                declared_type=file.content_type,
                note_type=values.get("note_type"),
            )
        else:
            typed = NoteCreateSerializer(data=request.data)
            typed.is_valid(raise_exception=True)
            note = note_create_from_text(
                patient=patient,
                actor=actor_of(request),
                **typed.validated_data,
            )
        body = NoteSerializer(_with_details(note)).data
        location = reverse("api:note-detail", kwargs={"pk": note.pk})
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})


@extend_schema_view(
    retrieve=extend_schema(summary="Get a note", tags=["notes"]),
    partial_update=extend_schema(
        summary="Edit a draft note (author or Admin)",
        description="Changing `content` or `note_type` queues the note to be read again. "
        "For an uploaded scan, `content` is the transcription.",
        tags=["notes"],
        request=NoteUpdateSerializer,
        responses={200: NoteSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a draft note and its file (author or Admin)",
        tags=["notes"],
    ),
)
class NoteViewSet(Audited, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Note]):
    queryset = Note.objects.with_details()
    serializer_class = NoteSerializer
    permission_classes = [ProviderAction]
    throttle_scope = "note_sign"
    audit_actions = {
        "sign": Action.SIGN,
        "addenda": Action.CREATE,
        "retract": Action.RETRACT,
        "reprocess": Action.UPDATE,
        "file": Action.DOWNLOAD,
    }
    # A second signature changes no note row, only adds its signature: that save records
    # the ``sign`` event, in the signing transaction.
    audit_related = {Signature: "note"}
    error_statuses = {
        "partial_update": {409: LOCKED, 403: NOT_AUTHOR},
        "destroy": {409: LOCKED, 403: NOT_AUTHOR},
        "sign": {
            403: {NoteErrorCode.INVALID_PASSWORD: "the password is wrong; nothing was signed."},
            409: {
                NoteErrorCode.ALREADY_SIGNED: "same signer and meaning.",
                **RETRACTED,
                NoteErrorCode.EXTRACTION_PENDING: "the note is still being read.",
                NoteErrorCode.NOTE_NOT_TRANSCRIBED: "the note has no text yet.",
            },
            429: {
                AccountErrorCode.LOCKED_OUT: "too many wrong passwords: the account is locked "
                "for sign-in and signing (accounts.lockout)."
            },
            503: {
                CoreErrorCode.SERVICE_UNAVAILABLE: "Redis (which keeps the signing throttle) "
                "is down; nothing was signed."
            },
        },
        "addenda": {
            409: {
                NoteErrorCode.NOTE_NOT_SIGNED: "only signed notes take addenda.",
                NoteErrorCode.NOTE_IS_ADDENDUM: "add it to the original note.",
                **RETRACTED,
            }
        },
        "retract": {409: RETRACTED, 403: NOT_AUTHOR},
        "reprocess": {
            409: RETRACTED,
            503: {
                CoreErrorCode.SERVICE_UNAVAILABLE: "the job queue is down; the note is unchanged."
            },
        },
    }

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "sign":
            return [ClientIpScopedRateThrottle()]
        return []

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note = self.get_object()
        changes = NoteUpdateSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        note = note_update(note=note, actor=actor_of(request), **changes.validated_data)
        return Response(NoteSerializer(_with_details(note)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note_delete(note=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sign a note (re-enter your password)",
        description=(
            "Records a signature: signer, time, meaning and the SHA-256 of the signed "
            "text. The note becomes `signed` and never changes again. Several people may "
            "sign (e.g. `review`, `approval`); nobody signs twice with the same meaning."
        ),
        tags=["notes"],
        request=NoteSignSerializer,
        responses={200: NoteSerializer},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        note = self.get_object()
        payload = NoteSignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note_sign(
            note=note,
            actor=actor_of(request),
            password=payload.validated_data["password"],
            meaning=payload.validated_data["meaning"],
            request=request._request,
        )
        return Response(NoteSerializer(_with_details(note)).data)

    @extend_schema(
        summary="Add an addendum to a signed note",
        description="The addendum is a note of its own (`parent_id` set), a draft that "
        "its author signs like any note.",
        tags=["notes"],
        request=AddendumCreateSerializer,
        responses={201: NoteSerializer},
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str | None = None) -> Response:
        parent = self.get_object()
        payload = AddendumCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        addendum = note_add_addendum(
            parent=parent,
            actor=actor_of(request),
            **payload.validated_data,
        )
        location = reverse("api:note-detail", kwargs={"pk": addendum.pk})
        return Response(
            NoteSerializer(_with_details(addendum)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    @extend_schema(
        summary="Retract a note: mark it entered in error (author or Admin)",
        description="The note is kept and shown as `entered_in_error`; it no longer counts "
        "in clinical data or summaries.",
        tags=["notes"],
        request=NoteRetractSerializer,
        responses={200: NoteSerializer},
    )
    @action(detail=True, methods=["post"])
    def retract(self, request: Request, pk: str | None = None) -> Response:
        note = self.get_object()
        payload = NoteRetractSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note_retract(note=note, actor=actor_of(request), reason=payload.validated_data["reason"])
        return Response(NoteSerializer(_with_details(note)).data)

    @extend_schema(
        summary="Read the note again (after a failure or for a newer engine)",
        tags=["notes"],
        request=None,
        responses={202: NoteSerializer},
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request: Request, pk: str | None = None) -> Response:
        note = note_reprocess(note=self.get_object(), actor=actor_of(request))
        return Response(NoteSerializer(_with_details(note)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the note's original file",
        description="Streamed as an attachment with its recorded content type and "
        "`X-Content-Type-Options: nosniff`. 404 when the note was typed.",
        tags=["notes"],
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, with the content type recognised at intake.",
            )
            for media_type in DOWNLOAD_MEDIA_TYPES
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, AttachmentRenderer])
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        note = self.get_object()
        if not note.file:
            raise NotFound("This note was typed; it has no file.")
        try:
            handle = note.file.open("rb")
        except OSError as exc:
            raise ServiceUnavailable("The stored file could not be read.") from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=note.file_name or "note",
            content_type=note.file_content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class PatientClinicalDataView(Audited, GenericAPIView[Patient]):
    queryset = Patient.objects.all()
    serializer_class = ClinicalDataSerializer
    permission_classes = [ClinicalRecord]
    lookup_url_kwarg = "patient_pk"
    audit_resource = "clinical_data"

    @extend_schema(
        summary="A patient's structured data gathered from their notes",
        tags=["notes"],
        parameters=[PATIENT_PARAM],
        responses={200: ClinicalDataSerializer},
    )
    def get(self, request: Request, patient_pk: str) -> Response:
        patient = self.get_object()
        return Response(ClinicalDataSerializer(patient_clinical_data(patient)).data)
