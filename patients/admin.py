"""Patients in the staff console: the fuzzy search of the API, a possible-duplicate
warning on registration, and the patient chart (the change page)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.actors import actor_of
from core.admin import OneAtATimeDeleteMixin, clinic_today, outcome_badge
from patients.chart import chart_panels
from patients.models import Patient, PatientQuerySet
from patients.services import EDITABLE_FIELDS, patient_create, patient_delete, patient_update
from patients.timeline import InvalidCursor, decode_cursor, encode_cursor, timeline_page

TIMELINE_PAGE_SIZE = 15
MAX_DUPLICATES_SHOWN = 5


def possible_duplicates(*, first_name: str, last_name: str, date_of_birth: Any) -> list[Patient]:
    """Patients born the same day whose name matches fuzzily (the API's search)."""
    qs = Patient.objects.filter(date_of_birth=date_of_birth).search(f"{first_name} {last_name}")
    return list(qs[:MAX_DUPLICATES_SHOWN])


class LatestOutcomeFilter(admin.RelatedFieldListFilter):
    """The changelist's filter on the outcome of the patient's latest interaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "latest outcome"


class PatientAdminForm(ModelForm[Patient]):
    register_anyway = forms.BooleanField(
        required=False,
        label="Register anyway",
        help_text="Tick to register a new patient although a similar one exists.",
    )

    class Meta:
        model = Patient
        fields = list(EDITABLE_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        adding = self.instance._state.adding
        first, last, born = data.get("first_name"), data.get("last_name"), data.get("date_of_birth")
        if adding and first and last and born and not data.get("register_anyway"):
            matches = possible_duplicates(first_name=first, last_name=last, date_of_birth=born)
            if matches:
                links = format_html_join(
                    ", ",
                    '<a href="{}" target="_blank">{}</a>',
                    (
                        (reverse("admin:patients_patient_change", args=[p.pk]), str(p))
                        for p in matches
                    ),
                )
                raise forms.ValidationError(
                    format_html(
                        "Possible duplicate: {} born on the same day ({}). Open them to "
                        "check, or tick “Register anyway” — duplicates are allowed.",
                        "a patient with a similar name is"
                        if len(matches) == 1
                        else "patients with a similar name are",
                        links,
                    ),
                )
        return data


@admin.register(Patient)
class PatientAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Patient]):
    form = PatientAdminForm
    change_form_template = "admin/patients/patient/chart.html"
    list_display = [
        "mrn",
        "last_name",
        "first_name",
        "date_of_birth",
        "age",
        "gender",
        "latest_outcome_badge",
        "phone",
    ]
    list_display_links = ["mrn", "last_name", "first_name"]
    list_filter = ["gender", ("latest__outcome", LatestOutcomeFilter)]
    list_select_related = ["latest__outcome"]
    search_fields = ["mrn", "last_name", "first_name", "email"]  # fuzzy: get_search_results
    search_help_text = "Name, MRN or email; misspellings and word order are tolerated."
    readonly_fields = ["id", "mrn", "created_at", "updated_at"]
    ordering = ["last_name", "first_name", "id"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        # The change page shows the latest outcome: one join, not two lookups.
        return super().get_queryset(request).select_related("latest__outcome")

    def get_fields(self, request: HttpRequest, obj: Patient | None = None) -> Any:
        if obj is None:
            return [*EDITABLE_FIELDS, "register_anyway"]
        return ["mrn", *EDITABLE_FIELDS, "created_at", "updated_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Patient], search_term: str
    ) -> tuple[QuerySet[Patient], bool]:
        # The API's fuzzy search (trigram on PostgreSQL); the changelist and every
        # patient autocomplete in the console use it.
        term = search_term.replace("\x00", "").strip()
        if not term:
            return queryset, False
        return cast(PatientQuerySet, queryset).search(term), False

    @admin.display(description="Age")
    def age(self, patient: Patient) -> int:
        return patient.age_on(clinic_today())

    @admin.display(description="Latest outcome", ordering="latest__outcome__severity")
    def latest_outcome_badge(self, patient: Patient) -> str:
        return outcome_badge(patient.latest_outcome)

    def save_model(
        self, request: HttpRequest, obj: Patient, form: ModelForm[Any], change: bool
    ) -> None:
        # One write path: the same services as the API.
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
        if change:
            patient_update(patient=Patient.objects.get(pk=obj.pk), actor=actor_of(request), **data)
        else:
            created = patient_create(**data, actor=actor_of(request))
            obj.pk, obj.mrn = created.pk, created.mrn
            obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Patient) -> None:
        patient_delete(patient=obj, actor=actor_of(request))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        patient = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if patient is not None and self.has_view_permission(request, patient):
            context.update(self.chart_context(request, patient))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def chart_context(self, request: HttpRequest, patient: Patient) -> dict[str, Any]:
        before = None
        cursor = request.GET.get("timeline", "")
        if cursor:
            try:
                before = decode_cursor(cursor)
            except InvalidCursor:
                before = None
        items, last = timeline_page(
            patient, types=None, before=before, start=None, end=None, page_size=TIMELINE_PAGE_SIZE
        )
        return {
            "patient": patient,
            "age": patient.age_on(clinic_today()),
            "outcome_badge": outcome_badge(patient.latest_outcome),
            "timeline": items,
            "timeline_next": encode_cursor(last) if last is not None else None,
            "timeline_first_page": before is None,
            "panels": chart_panels(request, patient),
            "now": timezone.now(),
            "clinic_time_zone": settings.CLINIC_TIME_ZONE,
        }
