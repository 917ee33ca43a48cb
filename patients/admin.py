from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from core.admin import OneAtATimeDeleteMixin
from interactions.admin import InteractionHistoryInline
from patients.models import Patient
from patients.services import EDITABLE_FIELDS, patient_create, patient_delete, patient_update


@admin.register(Patient)
class PatientAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Patient]):
    list_display = [
        "mrn",
        "last_name",
        "first_name",
        "date_of_birth",
        "gender",
        "email",
        "created_at",
    ]
    list_filter = ["gender"]
    search_fields = ["mrn", "last_name", "first_name", "email"]
    readonly_fields = ["id", "mrn", "created_at", "updated_at"]
    fields = ["id", "mrn", *EDITABLE_FIELDS, "created_at", "updated_at"]
    ordering = ["last_name", "first_name"]
    list_per_page = 50
    inlines = [InteractionHistoryInline]

    def save_model(
        self, request: HttpRequest, obj: Patient, form: ModelForm[Any], change: bool
    ) -> None:
        # One write path: the same services as the API.
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
        if change:
            patient_update(patient=Patient.objects.get(pk=obj.pk), **data)
        else:
            created = patient_create(**data)
            obj.pk, obj.mrn = created.pk, created.mrn

    def delete_model(self, request: HttpRequest, obj: Patient) -> None:
        patient_delete(patient=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Patient | None = None) -> bool:
        # Bulk deletion would bypass the dependents check; delete one at a time.
        return super().has_delete_permission(request, obj)
