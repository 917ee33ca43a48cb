from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from core.actors import actor_of
from core.admin import OneAtATimeDeleteMixin, clinic_time, form_candidate
from core.errors import Conflict
from doctors.errors import DoctorErrorCode
from doctors.models import Doctor
from doctors.services import (
    EDITABLE_FIELDS,
    doctor_check,
    doctor_create,
    doctor_delete,
    doctor_toggle_status,
    doctor_update,
)


class DoctorAdminForm(forms.ModelForm[Doctor]):
    """Validates with the services' own check (``doctor_check``), so that a conflict
    (duplicate email, an account linked twice) is shown on the form exactly as the API
    words it; ``DoctorAdmin.save_model`` writes through the services."""

    class Meta:
        model = Doctor
        fields = list(EDITABLE_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if self.errors:
            return data
        candidate = form_candidate(self.instance, data, EDITABLE_FIELDS)
        try:
            doctor_check(doctor=candidate)
        except Conflict as exc:
            fields: dict[str, str] = {
                DoctorErrorCode.DUPLICATE_EMAIL: "email",
                DoctorErrorCode.USER_ALREADY_LINKED: "user",
            }
            field = fields.get(exc.error_code)
            self.add_error(field if field in self.fields else None, str(exc.detail))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(Doctor)
class DoctorAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Doctor]):
    form = DoctorAdminForm
    list_display = ["full_name", "specialty", "email", "phone", "is_active", "created_at"]
    list_filter = ["is_active", "specialty"]
    search_fields = ["full_name", "specialty", "email"]
    readonly_fields = ["id", "is_active", "created_at", "updated_at"]
    fields = ["id", *EDITABLE_FIELDS, "is_active", "created_at", "updated_at"]
    autocomplete_fields = ["user"]
    actions = ["toggle_status"]
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Doctor], search_term: str
    ) -> tuple[QuerySet[Doctor], bool]:
        # Pickers (the autocomplete of appointments, interactions) offer active doctors
        # only; booking an inactive one anyway is refused with the API's message.
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            queryset = queryset.filter(is_active=True)
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: Doctor, form: Any, change: bool) -> None:
        # One write path: the services (the form has run their checks already; a write
        # that raced in between is refused here by the service and the unique indexes).
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
        if change:
            saved = doctor_update(
                doctor=Doctor.objects.get(pk=obj.pk), actor=actor_of(request), **data
            )
        else:
            saved = doctor_create(**data, actor=actor_of(request))
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Doctor) -> None:
        doctor_delete(doctor=obj, actor=actor_of(request))

    def has_delete_permission(self, request: HttpRequest, obj: Doctor | None = None) -> bool:
        # A doctor with appointments is never deleted (deactivate instead); hide the button.
        if obj is not None and obj.appointments.exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Activate / deactivate the selected doctors")
    def toggle_status(self, request: HttpRequest, queryset: QuerySet[Doctor]) -> None:
        for doctor in queryset:
            change = doctor_toggle_status(doctor=doctor, actor=actor_of(request))
            state = "active" if change.doctor.is_active else "inactive"
            self.message_user(request, f"{change.doctor.full_name} is now {state}.")
            if change.future_appointments:
                listed = "; ".join(
                    f"{clinic_time(a.start_time)} {a.patient.full_name}"
                    for a in change.future_appointments
                )
                self.message_user(
                    request,
                    f"{len(change.future_appointments)} future appointment(s) of "
                    f"{change.doctor.full_name} need another doctor: {listed}",
                    level=messages.WARNING,
                )
