"""Clinical notes: typed or uploaded, read by the extraction engine, signed, retracted."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.validators import validate_not_future

SIGNATURE_UNIQUE = "notes_signature_once_per_meaning"


class NoteType(models.TextChoices):
    ADMISSION = "admission", "Admission"
    PROGRESS = "progress", "Progress"
    CONSULT = "consult", "Consult"
    PROCEDURE = "procedure", "Procedure"
    DISCHARGE = "discharge", "Discharge"
    OTHER = "other", "Other"


class NoteTypeSource(models.TextChoices):
    AUTO = "auto", "Classified automatically"
    CLIENT = "client", "Given by the client"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class ExtractionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    NEEDS_TRANSCRIPTION = "needs_transcription", "Needs transcription"


class ContentSource(models.TextChoices):
    """Where ``content`` came from; decides whether processing reads the file again."""

    TYPED = "typed", "Typed"
    TEXT_FILE = "text_file", "Text file"
    PDF_TEXT = "pdf_text", "PDF text layer"
    OCR = "ocr", "OCR"
    TRANSCRIBED = "transcribed", "Transcribed by hand"
    NONE = "none", "Not read yet"


# Sources that processing (re)computes from the stored file.
FILE_DERIVED_SOURCES = (ContentSource.PDF_TEXT, ContentSource.OCR, ContentSource.NONE)


class SignatureMeaning(models.TextChoices):
    AUTHORSHIP = "authorship", "Authorship"
    REVIEW = "review", "Review"
    APPROVAL = "approval", "Approval"


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NoteQuerySet(models.QuerySet["Note"]):
    def current(self) -> NoteQuerySet:
        """Notes that count clinically: not entered in error, nor addenda of such notes."""
        return self.exclude(status=NoteStatus.ENTERED_IN_ERROR).exclude(
            parent__status=NoteStatus.ENTERED_IN_ERROR
        )

    def for_patient(self, patient_id: uuid.UUID) -> NoteQuerySet:
        return self.filter(patient_id=patient_id)

    def with_details(self) -> NoteQuerySet:
        """Everything the API serializer reads, in a fixed number of queries."""
        return self.select_related("author", "retracted_by").prefetch_related(
            models.Prefetch(
                "signatures",
                queryset=Signature.objects.order_by("signed_at", "id"),
            ),
            models.Prefetch(
                "addenda",
                queryset=Note.objects.order_by("taken_at", "id").only(
                    "id", "parent_id", "taken_at", "status"
                ),
            ),
        )


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="notes")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="addenda",
        help_text="Set on an addendum: the signed note it adds to.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes"
    )
    taken_at = models.DateTimeField(help_text="When the note was taken (not when it was sent).")
    note_type = models.CharField(max_length=16, choices=NoteType.choices, default=NoteType.OTHER)
    note_type_source = models.CharField(
        max_length=8, choices=NoteTypeSource.choices, default=NoteTypeSource.AUTO
    )
    # The client's own type, kept so that reprocessing never overrides it.
    client_note_type = models.CharField(max_length=16, choices=NoteType.choices, blank=True)
    note_type_confidence = models.FloatField(null=True, blank=True)
    content = models.TextField(blank=True)
    content_source = models.CharField(
        max_length=16, choices=ContentSource.choices, default=ContentSource.TYPED
    )
    sections = models.JSONField(null=True, blank=True)
    structured_data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    extraction_status = models.CharField(
        max_length=24, choices=ExtractionStatus.choices, default=ExtractionStatus.PENDING
    )
    extraction_error = models.TextField(blank=True)
    # Bumped on every change of content or type; a processing run saves its result only
    # if the revision it read is still the current one.
    revision = models.PositiveIntegerField(default=1)

    file = models.FileField(upload_to="notes/", max_length=255, blank=True)
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded name.")
    file_content_type = models.CharField(max_length=100, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)

    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retracted_notes",
    )
    retraction_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in NoteStatus]), name="notes_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(extraction_status__in=[s.value for s in ExtractionStatus]),
                name="notes_extraction_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(note_type__in=[t.value for t in NoteType]),
                name="notes_note_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=NoteStatus.ENTERED_IN_ERROR) | Q(retracted_at__isnull=False),
                name="notes_retraction_recorded",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "taken_at", "id"], name="notes_patient_taken_idx"),
            models.Index(fields=["status"], name="notes_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_note_type_display()} note {self.taken_at:%Y-%m-%d %H:%M} ({self.id})"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    @property
    def is_retracted(self) -> bool:
        return self.status == NoteStatus.ENTERED_IN_ERROR

    @property
    def content_sha256(self) -> str:
        return content_sha256(self.content)

    @property
    def title(self) -> str:
        label = f"{self.get_note_type_display()} note"
        if self.parent_id:
            label = f"Addendum to {label.lower()}"
        if self.is_retracted:
            label += " (entered in error)"
        return label

    def reads_file(self) -> bool:
        """Whether processing takes the text from the stored file (PDF text or OCR)."""
        return bool(self.file) and self.content_source in FILE_DERIVED_SOURCES

    def clean(self) -> None:
        if self.taken_at:
            validate_not_future(
                self.taken_at, field="taken_at", message="taken_at cannot be in the future."
            )


class Signature(models.Model):
    """An electronic signature (after 21 CFR Part 11 §11.50): who, when, what it means,
    and a hash of exactly the text that was signed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="note_signatures"
    )
    signer_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=16, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField(default=timezone.now)
    content_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["note", "signer", "meaning"],
                name=SIGNATURE_UNIQUE,
                violation_error_message="You have already signed this note with this meaning.",
            ),
            models.CheckConstraint(
                condition=Q(meaning__in=[m.value for m in SignatureMeaning]),
                name="notes_signature_meaning_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} ({self.meaning}) at {self.signed_at:%Y-%m-%d %H:%M}"
