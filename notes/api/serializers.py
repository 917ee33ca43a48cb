from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.serializers import AwareDateTimeField, StrictFieldsMixin, reject_nul
from notes.models import Note, NoteType, Signature, SignatureMeaning

NOTE_ID = "3b7e6f0e-8a59-4f4e-9d1c-2f1f7f5f6a01"
PATIENT_ID = "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11"
SOAP_EXAMPLE = (
    "S: 67M with exertional chest pressure x2 days. Denies fever.\n"
    "O: BP 142/88, HR 92, T 99.1F, SpO2 96% RA, Wt 180 lb.\n"
    "Meds: metoprolol 25 mg PO BID, aspirin 81 mg daily. Lisinopril held.\n"
    "Allergies: penicillin (rash)\n"
    "A/P: 1. Hypertension. 2. No PE."
)
NOTE_EXAMPLE: dict[str, Any] = {
    "id": NOTE_ID,
    "patient_id": PATIENT_ID,
    "parent_id": None,
    "author_id": 7,
    "author_name": "Priya Provider",
    "taken_at": "2026-11-20T09:15:00Z",
    "note_type": "progress",
    "note_type_source": "auto",
    "note_type_confidence": 0.92,
    "status": "draft",
    "extraction_status": "done",
    "extraction_error": "",
    "content": SOAP_EXAMPLE,
    "content_source": "typed",
    "content_sha256": "9f2c0d3e5b1c4a7f8e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a291807",
    "sections": {
        "subjective": {
            "text": "67M with exertional chest pressure x2 days. Denies fever.",
            "start": 3,
            "end": 60,
        },
        "objective": {"text": "BP 142/88, HR 92, ...", "start": 64, "end": 200},
        "assessment_and_plan": {
            "text": "1. Hypertension. 2. No PE.",
            "start": 206,
            "end": 232,
            "label": "A/P",
        },
    },
    "structured_data": {
        "vitals": {
            "systolic_bp": {
                "value": 142,
                "unit": "mmHg",
                "span": {"text": "BP 142/88", "start": 64, "end": 73},
            },
            "temperature_c": {
                "value": 37.3,
                "unit": "°C",
                "original": "99.1 F",
                "span": {"text": "T 99.1F", "start": 82, "end": 89},
            },
        },
        "medications": [
            {
                "name": "metoprolol",
                "dose": "25 mg",
                "route": "PO",
                "frequency": "BID",
                "status": "active",
                "span": {"text": "metoprolol 25 mg PO BID", "start": 122, "end": 145},
            },
            {
                "name": "lisinopril",
                "dose": None,
                "route": None,
                "frequency": None,
                "status": "stopped",
                "span": {"text": "Lisinopril", "start": 168, "end": 178},
            },
        ],
        "allergies": [
            {
                "substance": "penicillin",
                "reaction": "rash",
                "span": {"text": "penicillin (rash)", "start": 196, "end": 213},
            }
        ],
        "no_known_allergies": False,
        "diagnoses": [
            {"text": "Hypertension", "span": {"text": "Hypertension", "start": 209, "end": 221}}
        ],
        "excluded_diagnoses": [],
    },
    "file": None,
    "signatures": [],
    "addenda": [],
    "retraction": None,
    "created_at": "2026-11-20T09:16:02Z",
    "updated_at": "2026-11-20T09:16:02Z",
}


class NoteFileSerializer(serializers.Serializer[Note]):
    """The stored original; download it from ``download_url`` (never a public URL)."""

    name = serializers.CharField(source="file_name")
    content_type = serializers.CharField(source="file_content_type")
    size = serializers.IntegerField(source="file_size")
    sha256 = serializers.CharField(source="file_sha256")
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, note: Note) -> str:
        return reverse("api:note-file", kwargs={"pk": note.pk})


class SignatureSerializer(serializers.ModelSerializer[Signature]):
    signer_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Signature
        fields = ["id", "signer_id", "signer_name", "meaning", "signed_at", "content_sha256"]
        read_only_fields = fields


class AddendumRefSerializer(serializers.ModelSerializer[Note]):
    class Meta:
        model = Note
        fields = ["id", "taken_at", "status"]
        read_only_fields = fields


class RetractionSerializer(serializers.Serializer[Note]):
    at = serializers.DateTimeField(source="retracted_at")
    by_id = serializers.IntegerField(source="retracted_by_id")
    reason = serializers.CharField(source="retraction_reason")


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObjectField(serializers.JSONField):
    """Free-form JSON documented as an object (see the examples for its shape)."""


@extend_schema_serializer(examples=[OpenApiExample("Note", value=NOTE_EXAMPLE, response_only=True)])
class NoteSerializer(serializers.ModelSerializer[Note]):
    """A clinical note as read by the API.

    ``sections`` is ``null`` unless the note is in SOAP form. Every item in
    ``structured_data`` keeps the ``span`` of ``content`` it was read from. ``file`` is
    ``null`` for typed notes.
    """

    patient_id = serializers.UUIDField(read_only=True)
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    author_id = serializers.IntegerField(read_only=True)
    author_name = serializers.SerializerMethodField()
    content_sha256 = serializers.CharField(read_only=True)
    sections = JsonObjectField(read_only=True, allow_null=True)
    structured_data = JsonObjectField(read_only=True)
    file = serializers.SerializerMethodField()
    signatures = SignatureSerializer(many=True, read_only=True)
    addenda = AddendumRefSerializer(many=True, read_only=True)
    retraction = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = [
            "id",
            "patient_id",
            "parent_id",
            "author_id",
            "author_name",
            "taken_at",
            "note_type",
            "note_type_source",
            "note_type_confidence",
            "status",
            "extraction_status",
            "extraction_error",
            "content",
            "content_source",
            "content_sha256",
            "sections",
            "structured_data",
            "file",
            "signatures",
            "addenda",
            "retraction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_author_name(self, note: Note) -> str:
        return note.author.get_full_name() or note.author.get_username()

    @extend_schema_field(NoteFileSerializer(allow_null=True))
    def get_file(self, note: Note) -> dict[str, Any] | None:
        return NoteFileSerializer(note).data if note.file else None

    @extend_schema_field(RetractionSerializer(allow_null=True))
    def get_retraction(self, note: Note) -> dict[str, Any] | None:
        return RetractionSerializer(note).data if note.is_retracted else None


def _content_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=settings.NOTES_MAX_CONTENT_CHARS,
        trim_whitespace=False,
        validators=[reject_nul],
        help_text="The note text (plain text or Markdown).",
    )


def _note_type_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=NoteType.choices,
        required=False,
        allow_null=True,
        help_text="Omit to have the note classified (`note_type_source: auto`).",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Typed SOAP note",
            value={"taken_at": "2026-11-20T09:15:00+01:00", "content": SOAP_EXAMPLE},
            request_only=True,
        ),
        OpenApiExample(
            "Typed discharge note with a given type",
            value={
                "taken_at": "2026-11-20T16:00:00Z",
                "note_type": "discharge",
                "content": "Discharge summary: admitted for CHF exacerbation, diuresed...",
            },
            request_only=True,
        ),
    ]
)
class NoteCreateSerializer(StrictFieldsMixin, serializers.Serializer[Note]):
    """A typed note (``application/json``)."""

    taken_at = AwareDateTimeField(help_text="With an offset; not in the future.")
    content = _content_field()
    note_type = _note_type_field()


class NoteUploadSerializer(StrictFieldsMixin, serializers.Serializer[Note]):
    """An uploaded note file (``multipart/form-data``): UTF-8 text or Markdown, PDF,
    PNG, JPEG or TIFF, recognised by its bytes."""

    file = serializers.FileField(
        allow_empty_file=True,
        max_length=1000,
        help_text="The note file; at most NOTES_MAX_UPLOAD_MB (default 10) MB.",
    )
    taken_at = AwareDateTimeField(help_text="With an offset; not in the future.")
    note_type = _note_type_field()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Transcribe a scanned note",
            value={"content": "Progress note. BP 128/82, HR 74. Plan: continue lisinopril."},
            request_only=True,
        )
    ]
)
class NoteUpdateSerializer(StrictFieldsMixin, serializers.Serializer[Note]):
    """Changes to a draft note (author or Admin). New content is analysed again."""

    content = _content_field()
    taken_at = AwareDateTimeField(help_text="With an offset; not in the future.")
    note_type = _note_type_field()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Sign as author",
            value={"password": "your-password", "meaning": "authorship"},
            request_only=True,
        )
    ]
)
class NoteSignSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=256,
        style={"input_type": "password"},
        help_text="The signer's own password (each signature re-authenticates).",
    )
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Addendum",
            value={
                "taken_at": "2026-11-21T08:00:00Z",
                "content": "Addendum: potassium 3.4 this morning; replete with KCl 20 mEq PO.",
            },
            request_only=True,
        )
    ]
)
class AddendumCreateSerializer(StrictFieldsMixin, serializers.Serializer[Note]):
    taken_at = AwareDateTimeField(help_text="With an offset; not before the original note.")
    content = _content_field()
    note_type = _note_type_field()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Wrong patient",
            value={"reason": "Documented on the wrong patient's chart."},
            request_only=True,
        )
    ]
)
class NoteRetractSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, validators=[reject_nul])


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A number exactly as extracted (integers stay integers)."""

    def to_representation(self, value: Any) -> Any:
        return value


class VitalValueSerializer(serializers.Serializer[Any]):
    value = NumberField()
    unit = serializers.CharField()
    at = serializers.DateTimeField()
    note_id = serializers.UUIDField()


class ActiveMedicationSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    dose = serializers.CharField(allow_null=True)
    route = serializers.CharField(allow_null=True)
    frequency = serializers.CharField(allow_null=True)
    change = serializers.CharField(
        allow_null=True,
        help_text="What the latest note mentioning it did: started, resumed, continued, "
        "increased, decreased, held (or null when it only listed the drug).",
    )
    last_mentioned_at = serializers.DateTimeField()
    note_ids = serializers.ListField(child=serializers.UUIDField())


class AllergySerializer(serializers.Serializer[Any]):
    substance = serializers.CharField()
    reaction = serializers.CharField(allow_null=True)
    note_ids = serializers.ListField(child=serializers.UUIDField())


class DiagnosisSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    certainty = serializers.ChoiceField(
        choices=["confirmed", "uncertain"], help_text="`uncertain`: stated as possible."
    )
    first_noted_at = serializers.DateTimeField()
    last_noted_at = serializers.DateTimeField()
    note_ids = serializers.ListField(child=serializers.UUIDField())


class PastDiagnosisSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    first_noted_at = serializers.DateTimeField()
    last_noted_at = serializers.DateTimeField()
    note_ids = serializers.ListField(child=serializers.UUIDField())


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Clinical data",
            value={
                "patient_id": PATIENT_ID,
                "vitals": {
                    "systolic_bp": {
                        "value": 142,
                        "unit": "mmHg",
                        "at": "2026-11-20T09:15:00Z",
                        "note_id": NOTE_ID,
                    },
                    "temperature_c": {
                        "value": 37.3,
                        "unit": "°C",
                        "at": "2026-11-20T09:15:00Z",
                        "note_id": NOTE_ID,
                    },
                },
                "medications": [
                    {
                        "name": "metoprolol",
                        "dose": "25 mg",
                        "route": "PO",
                        "frequency": "BID",
                        "change": "increased",
                        "last_mentioned_at": "2026-11-20T09:15:00Z",
                        "note_ids": [NOTE_ID],
                    }
                ],
                "allergies": [
                    {"substance": "penicillin", "reaction": "rash", "note_ids": [NOTE_ID]}
                ],
                "no_known_allergies": False,
                "no_known_allergies_note_ids": [],
                "diagnoses": [
                    {
                        "text": "Hypertension",
                        "certainty": "confirmed",
                        "first_noted_at": "2026-11-20T09:15:00Z",
                        "last_noted_at": "2026-11-20T09:15:00Z",
                        "note_ids": [NOTE_ID],
                    }
                ],
                "held_medications": [],
                "past_diagnoses": [],
                "source_note_ids": [NOTE_ID],
            },
            response_only=True,
        )
    ]
)
class ClinicalDataSerializer(serializers.Serializer[Any]):
    """Structured data across the patient's current notes (not entered in error) whose
    extraction is done. Vitals are keyed by name: `systolic_bp`, `diastolic_bp`,
    `heart_rate`, `respiratory_rate`, `temperature_c`, `spo2`, `weight_kg`, `height_cm`."""

    patient_id = serializers.UUIDField()
    vitals = serializers.DictField(child=VitalValueSerializer())
    medications = ActiveMedicationSerializer(many=True, help_text="Active medications only.")
    held_medications = ActiveMedicationSerializer(
        many=True, help_text="Medications whose latest mention holds (pauses) them."
    )
    allergies = AllergySerializer(many=True)
    no_known_allergies = serializers.BooleanField()
    no_known_allergies_note_ids = serializers.ListField(child=serializers.UUIDField())
    diagnoses = DiagnosisSerializer(many=True, help_text="Current conditions, each once.")
    past_diagnoses = PastDiagnosisSerializer(
        many=True, help_text='Conditions the notes call past ("h/o", "s/p", "resolved").'
    )
    source_note_ids = serializers.ListField(
        child=serializers.UUIDField(), help_text="Every note the data was gathered from."
    )
