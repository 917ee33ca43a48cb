from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from appointments.models import Appointment
from appointments.services import (
    RESCHEDULE_FIELDS,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_delete,
    appointment_mark_no_show,
    appointment_reschedule,
)
from core.admin import OneAtATimeDeleteMixin
from core.errors import Conflict


class AppointmentAdminForm(forms.ModelForm[Appointment]):
    """Books or reschedules through the services while validating, so that a double
    booking shows the same conflict message as the API instead of failing on save."""

    booked_by: User | None = None  # set per request by AppointmentAdmin.get_form

    class Meta:
        model = Appointment
        fields = list(RESCHEDULE_FIELDS)

    def _post_clean(self) -> None:
        if self.errors:
            return
        data: dict[str, Any] = {name: self.cleaned_data.get(name) for name in RESCHEDULE_FIELDS}
        data["reason"] = data["reason"] or ""
        try:
            if self.instance._state.adding:
                self.instance = appointment_book(**data, booked_by=self.booked_by)
            else:
                self.instance = appointment_reschedule(appointment=self.instance, **data)
        except Conflict as exc:
            message = str(exc.detail)
            suggestions = exc.context.get("next_available") or []
            if suggestions:
                message += " Next free start times: " + ", ".join(suggestions) + "."
            self.add_error(None, message)
        except ValidationError as exc:
            self.add_error(None, exc)


@admin.register(Appointment)
class AppointmentAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Appointment]):
    form = AppointmentAdminForm
    list_display = ["start_time", "end_time", "doctor", "patient", "status", "reason"]
    list_filter = ["status", "doctor", ("start_time", admin.DateFieldListFilter)]
    list_select_related = ["doctor", "patient"]
    date_hierarchy = "start_time"
    search_fields = ["patient__last_name", "patient__mrn", "doctor__full_name", "reason"]
    autocomplete_fields = ["patient", "doctor"]
    readonly_fields = [
        "id",
        "end_time",
        "status",
        "cancellation_reason",
        "cancelled_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fields = ["id", *RESCHEDULE_FIELDS, *readonly_fields[1:]]
    actions = ["cancel", "complete", "mark_no_show"]
    ordering = ["-start_time"]
    list_per_page = 50

    def get_form(
        self,
        request: HttpRequest,
        obj: Appointment | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        user = request.user if isinstance(request.user, User) else None
        return type(form.__name__, (form,), {"booked_by": user})

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        # Already saved by AppointmentAdminForm through the services.
        pass

    def delete_model(self, request: HttpRequest, obj: Appointment) -> None:
        appointment_delete(appointment=obj)

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Appointment],
        service: Callable[..., Appointment],
        done: str,
    ) -> None:
        changed = 0
        for appointment in queryset:
            try:
                service(appointment=appointment)
                changed += 1
            except Conflict as exc:
                self.message_user(request, f"{appointment}: {exc.detail}", level=messages.ERROR)
        if changed:
            self.message_user(request, f"{changed} appointment(s) {done}.")

    @admin.action(description="Cancel the selected appointments")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._apply(request, queryset, appointment_cancel, "cancelled")

    @admin.action(description="Mark the selected appointments completed")
    def complete(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._apply(request, queryset, appointment_complete, "completed")

    @admin.action(description="Mark the selected appointments as no-shows")
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._apply(request, queryset, appointment_mark_no_show, "marked as no-shows")
