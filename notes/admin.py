"""Notes in the admin: read-only. Writing and signing happen through the API, where
signing re-authenticates; files download through the protected API view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from notes.models import Note, Signature
from patients.admin import PatientAdmin

VITAL_LABELS = {
    "systolic_bp": "Systolic BP",
    "diastolic_bp": "Diastolic BP",
    "heart_rate": "Heart rate",
    "respiratory_rate": "Respiratory rate",
    "temperature_c": "Temperature",
    "spo2": "SpO2",
    "weight_kg": "Weight",
    "height_cm": "Height",
}
EMPTY = format_html("<em>{}</em>", "none")
INLINE_FIELDS = (
    "taken_at",
    "note_type",
    "status",
    "extraction_status",
    "content_display",
    "sections_display",
    "structured_data_display",
    "file_display",
)
NOTE_FIELDS = (
    "id",
    "patient",
    "parent",
    "author",
    "taken_at",
    "note_type",
    "note_type_source",
    "note_type_confidence",
    "status",
    "extraction_status",
    "extraction_error",
    "content_source",
    "content_display",
    "sections_display",
    "structured_data_display",
    "file_display",
    "retracted_at",
    "retracted_by",
    "retraction_reason",
    "created_at",
    "updated_at",
)


def render_content(note: Note) -> SafeString:
    if not note.content:
        return format_html("<em>{}</em>", note.extraction_error or "no text")
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', note.content)


def render_sections(note: Note) -> SafeString:
    if not note.sections:
        return format_html("<em>{}</em>", "not a SOAP note")
    return format_html(
        "<dl>{}</dl>",
        format_html_join(
            "",
            "<dt><strong>{}</strong></dt><dd>{}</dd>",
            ((name.capitalize(), part["text"]) for name, part in note.sections.items()),
        ),
    )


def _items(rows: list[str]) -> SafeString:
    if not rows:
        return EMPTY
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in rows)))


def render_structured_data(note: Note) -> SafeString:
    data: dict[str, Any] = note.structured_data or {}
    vitals = [
        f"{VITAL_LABELS.get(name, name)}: {v['value']} {v['unit']}"
        for name, v in (data.get("vitals") or {}).items()
    ]
    medications = [
        " ".join(
            str(part)
            for part in (m["name"], m.get("dose"), m.get("route"), m.get("frequency"))
            if part
        )
        + (f" ({m['status']})" if m.get("status") == "stopped" else "")
        for m in data.get("medications") or []
    ]
    allergies = [
        a["substance"] + (f" ({a['reaction']})" if a.get("reaction") else "")
        for a in data.get("allergies") or []
    ]
    if data.get("no_known_allergies"):
        allergies.append("No known drug allergies")
    diagnoses = [d["text"] for d in data.get("diagnoses") or []]
    return format_html(
        "<dl><dt>Vitals</dt><dd>{}</dd><dt>Medications</dt><dd>{}</dd>"
        "<dt>Allergies</dt><dd>{}</dd><dt>Diagnoses</dt><dd>{}</dd></dl>",
        _items(vitals),
        _items(medications),
        _items(allergies),
        _items(diagnoses),
    )


def render_file(note: Note) -> SafeString:
    if not note.file:
        return format_html("<em>{}</em>", "typed note")
    url = reverse("api:note-file", kwargs={"pk": note.pk})
    return format_html(
        '<a href="{}">{}</a> ({}, {} bytes, SHA-256 {})',
        url,
        note.file_name,
        note.file_content_type,
        note.file_size,
        note.file_sha256,
    )


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _NoteDisplay:
    """The read-only renderings of a note, shared by the inline and the note page."""

    @admin.display(description="Content")
    def content_display(self, note: Note) -> SafeString:
        return render_content(note)

    @admin.display(description="Sections")
    def sections_display(self, note: Note) -> SafeString:
        return render_sections(note)

    @admin.display(description="Structured data")
    def structured_data_display(self, note: Note) -> SafeString:
        return render_structured_data(note)

    @admin.display(description="File (downloads through the API)")
    def file_display(self, note: Note) -> SafeString:
        return render_file(note)


class NoteInline(_NoteDisplay, _ReadOnly, admin.StackedInline[Note, Any]):
    model = Note
    fk_name = "patient"
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-taken_at", "-id"]
    fields = INLINE_FIELDS
    readonly_fields = INLINE_FIELDS


class SignatureInline(_ReadOnly, admin.TabularInline[Signature, Any]):
    model = Signature
    extra = 0
    fields = ("signer_name", "meaning", "signed_at", "content_sha256")
    readonly_fields = fields


@admin.register(Note)
class NoteAdmin(_NoteDisplay, _ReadOnly, admin.ModelAdmin[Note]):
    list_display = [
        "taken_at",
        "patient",
        "note_type",
        "status",
        "extraction_status",
        "author",
        "parent",
    ]
    list_filter = ["note_type", "status", "extraction_status", "note_type_source"]
    search_fields = ["patient__mrn", "patient__last_name", "patient__first_name"]
    list_select_related = ["patient", "author", "parent"]
    date_hierarchy = "taken_at"
    ordering = ["-taken_at", "-id"]
    inlines = [SignatureInline]
    fields = NOTE_FIELDS
    readonly_fields = NOTE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Note]:
        return super().get_queryset(request).select_related("patient", "author", "parent")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


# The patient page lists the patient's notes; patients.admin knows nothing of notes.
PatientAdmin.inlines = [*PatientAdmin.inlines, NoteInline]
