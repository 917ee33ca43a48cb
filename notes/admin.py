"""Notes in the staff console. A note is added (typed or uploaded) through the same
services as the API and is read-only afterwards: signing (which re-authenticates),
addenda and retraction happen through the API; files download through the protected API
view. The patient chart shows the clinical-data panel of the notes engine."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.actors import actor_of
from core.errors import ApiError
from notes.clinical_data import patient_clinical_data
from notes.models import ExtractionStatus, Note, NoteType, Signature
from notes.services import note_create_from_text, note_create_from_upload
from patients.chart import register_chart_panel
from patients.models import Patient

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


def _items(rows: list[str], empty: SafeString = EMPTY) -> SafeString:
    if not rows:
        return empty
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
        # Silence about allergies is not "no known allergies".
        _items(allergies, format_html("<em>{}</em>", "not documented in this note")),
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

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("notes.add_note")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Type a note or upload a file; the service's errors show on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"patient": request.GET.get("patient"), "taken_at": timezone.now()}
        form = NoteAddForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            upload = data.get("file")
            try:
                if upload:
                    note = note_create_from_upload(
                        patient=data["patient"],
                        actor=actor_of(request),
                        taken_at=data["taken_at"],
                        data=upload.read(),
                        file_name=upload.name or "note",
                        declared_type=upload.content_type,
                        note_type=data.get("note_type") or None,
                    )
                else:
                    note = note_create_from_text(
                        patient=data["patient"],
                        actor=actor_of(request),
                        taken_at=data["taken_at"],
                        content=data["content"],
                        note_type=data.get("note_type") or None,
                    )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except ApiError as exc:
                form.add_error(None, str(exc.detail))
            else:
                self.message_user(request, f"Note added for {note.patient.full_name}.")
                return HttpResponseRedirect(
                    reverse("admin:patients_patient_change", args=[note.patient_id])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a note",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/notes/note/add.html", context)


class NoteAddForm(forms.Form):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        widget=forms.HiddenInput,
        error_messages={"required": "Add notes from the patient's chart."},
    )
    taken_at = forms.SplitDateTimeField(
        label="Taken at", widget=AdminSplitDateTime, help_text="Clinic time."
    )
    note_type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Detect automatically"), *NoteType.choices]
    )
    content = forms.CharField(
        label="Typed note", required=False, widget=forms.Textarea(attrs={"rows": 12, "cols": 80})
    )
    file = forms.FileField(
        label="…or upload a file",
        required=False,
        help_text="Text, PDF or an image (scans are read by OCR).",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if not data.get("content", "").strip() and not data.get("file"):
            raise forms.ValidationError("Type the note or choose a file.")
        if data.get("content", "").strip() and data.get("file"):
            raise forms.ValidationError("Either type the note or upload a file, not both.")
        return data


def clinical_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """The notes engine's clinical picture. Allergies have three states: listed, "no
    known allergies" (a note says so), or not documented (no note mentions them)."""
    if not request.user.has_perm("notes.view_note"):
        return None
    data = patient_clinical_data(patient)
    return {
        "clinical": data,
        "vitals": [
            {"label": VITAL_LABELS.get(name, name), **value}
            for name, value in data["vitals"].items()
        ],
        "awaiting": Note.objects.current()
        .for_patient(patient.pk)
        .exclude(extraction_status=ExtractionStatus.DONE)
        .count(),
    }


register_chart_panel(
    "clinical", order=20, template="admin/notes/note/chart_panel.html", context=clinical_panel
)
