"""Appointments in the staff console: booking and rescheduling validate in the form with
the services' non-writing check and write through the services; the front desk's day view;
cancel with a reason; upcoming appointments on the patient chart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from appointments.availability import free_starts
from appointments.hours import day_bounds, grid_starts
from appointments.models import Appointment
from appointments.services import (
    RESCHEDULE_FIELDS,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_delete,
    appointment_mark_no_show,
    appointment_reschedule,
    ensure_bookable,
)
from core.actors import actor_of
from core.admin import (
    OneAtATimeDeleteMixin,
    clinic_time,
    clinic_today,
    clinic_zone,
    form_candidate,
)
from core.errors import Conflict
from doctors.models import Doctor
from patients.chart import register_chart_panel
from patients.models import Patient

DAY_RANGES = {"today": (0, 1), "tomorrow": (1, 1), "week": (0, 7)}
UPCOMING_ON_CHART = 5
# The day view offers free slots of this length, on the hour and half hour.
DAY_VIEW_MINUTES = 30


def conflict_message(exc: Conflict) -> SafeString:
    """The API's conflict detail, then the clashing appointment in clinic-local time and
    the next free start times as links that open the booking form on that slot."""
    parts: list[SafeString] = [format_html("{}", exc.detail)]
    other_id = exc.context.get("conflicting_appointment_id")
    if other_id:
        other = Appointment.objects.select_related("doctor", "patient").filter(pk=other_id).first()
        if other is not None:
            parts.append(
                format_html(
                    ' It clashes with <a href="{}">{} to {}, {} with {}</a>.',
                    reverse("admin:appointments_appointment_change", args=[other.pk]),
                    clinic_time(other.start_time),
                    timezone.localtime(other.end_time, clinic_zone()).strftime("%H:%M"),
                    other.patient.full_name,
                    other.doctor.full_name,
                )
            )
    return format_html_join("", "{}", ((p,) for p in parts))


def suggestion_links(exc: Conflict, *, data: dict[str, Any]) -> SafeString:
    suggestions = exc.context.get("next_available") or []
    starts = [s for s in (parse_datetime(text) for text in suggestions) if s is not None]
    if not starts:
        return SafeString("")
    return format_html(
        " Next free times: {}.",
        format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((_book_url(start=s, **data), clinic_time(s)) for s in starts),
        ),
    )


def _book_url(
    *,
    start: datetime,
    doctor: Doctor | None = None,
    patient: Patient | None = None,
    duration_minutes: int | None = None,
) -> str:
    local = timezone.localtime(start, clinic_zone())
    query: dict[str, Any] = {
        "start_time_0": local.strftime("%Y-%m-%d"),
        "start_time_1": local.strftime("%H:%M"),
    }
    if doctor is not None:
        query["doctor"] = doctor.pk
    if patient is not None:
        query["patient"] = patient.pk
    if duration_minutes:
        query["duration_minutes"] = duration_minutes
    return reverse("admin:appointments_appointment_add") + "?" + urlencode(query)


def outside_opening_hours(appointment: Appointment) -> bool:
    """True when the appointment is not on the clinic's grid of bookable starts."""
    local_day = timezone.localtime(appointment.start_time, clinic_zone()).date()
    return appointment.start_time not in grid_starts(local_day, appointment.duration_minutes)


class AppointmentAdminForm(forms.ModelForm[Appointment]):
    """Validates with the services' own check (``ensure_bookable``), so that a double
    booking or an inactive doctor is reported on the form in the API's words."""

    class Meta:
        model = Appointment
        fields = list(RESCHEDULE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "start_time" in self.fields:
            self.fields["start_time"].help_text = (
                f"Clinic time ({settings.CLINIC_TIME_ZONE}). Opening hours: "
                f"{settings.CLINIC_OPENING_HOURS}."
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if self.errors or not all(data.get(n) for n in ("patient", "doctor", "start_time")):
            return data
        candidate = form_candidate(self.instance, data, RESCHEDULE_FIELDS)
        moved = self.instance._state.adding or any(
            getattr(self.instance, n) != getattr(candidate, n)
            for n in ("patient_id", "doctor_id", "start_time", "duration_minutes")
        )
        if not moved:
            return data
        try:
            ensure_bookable(appointment=candidate)
        except Conflict as exc:
            raise ValidationError(
                conflict_message(exc)
                + suggestion_links(
                    exc,
                    data={
                        "doctor": candidate.doctor,
                        "patient": candidate.patient,
                        "duration_minutes": candidate.duration_minutes,
                    },
                ),
                code=str(exc.error_code),
            ) from exc
        self.outside_hours = outside_opening_hours(candidate)
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        strip=True,
    )


class StartFilter(admin.SimpleListFilter):
    """When, in the clinic's calendar: the front desk's usual questions."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", "Today"),
            ("tomorrow", "Tomorrow"),
            ("week", "Next 7 days"),
            ("upcoming", "Upcoming"),
            ("past", "Past"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> Any:
        value = self.value()
        now = timezone.now()
        if value in DAY_RANGES:
            first, days = DAY_RANGES[value]
            start = day_bounds(clinic_today() + timedelta(days=first))[0]
            return queryset.filter(
                start_time__gte=start, start_time__lt=start + timedelta(days=days)
            )
        if value == "upcoming":
            return queryset.filter(start_time__gte=now)
        if value == "past":
            return queryset.filter(start_time__lt=now)
        return queryset


@admin.register(Appointment)
class AppointmentAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Appointment]):
    form = AppointmentAdminForm
    list_display = ["when", "duration_minutes", "doctor", "patient", "status", "reason"]
    list_filter = [StartFilter, "status", "doctor"]
    list_select_related = ["doctor", "patient"]
    date_hierarchy = "start_time"
    search_fields = [
        "patient__last_name",
        "patient__first_name",
        "patient__mrn",
        "doctor__full_name",
        "reason",
    ]
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
    list_per_page = 50

    def get_ordering(self, request: HttpRequest) -> Any:
        # Upcoming first, soonest first; the past after (the "past" filter sorts itself).
        if request.GET.get("when") == "past":
            return ["-start_time", "-id"]
        return ["start_time", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        qs = super().get_queryset(request)
        if (
            request.resolver_match
            and request.resolver_match.url_name == ("appointments_appointment_changelist")
            and not request.GET
        ):
            # Opened plainly, the list shows what is coming, not years of history.
            return qs.filter(start_time__gte=day_bounds(clinic_today())[0])
        return qs

    @admin.display(description="Starts (clinic time)", ordering="start_time")
    def when(self, appointment: Appointment) -> str:
        return clinic_time(appointment.start_time)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        start_day, start_clock = request.GET.get("start_time_0"), request.GET.get("start_time_1")
        if start_day and start_clock:
            moment = parse_datetime(f"{start_day}T{start_clock}")
            if moment is not None:
                initial["start_time"] = timezone.make_aware(moment, clinic_zone())
        initial.pop("start_time_0", None)
        initial.pop("start_time_1", None)
        return initial

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        # One write path: the services (the form has run their checks already; a booking
        # that raced in between is refused here by the service and the constraint).
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in RESCHEDULE_FIELDS}
        data["reason"] = data["reason"] or ""
        if change:
            saved = appointment_reschedule(
                appointment=Appointment.objects.get(pk=obj.pk), actor=actor_of(request), **data
            )
        else:
            saved = appointment_book(**data, actor=actor_of(request))
        obj.pk = saved.pk
        obj._state.adding = False
        obj.end_time = saved.end_time
        if getattr(form, "outside_hours", False):
            self.message_user(
                request,
                f"Booked outside the clinic's opening hours ({settings.CLINIC_OPENING_HOURS}).",
                level=messages.WARNING,
            )

    def delete_model(self, request: HttpRequest, obj: Appointment) -> None:
        appointment_delete(appointment=obj, actor=actor_of(request))

    # ------------------------------------------------------------------ actions

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Appointment],
        service: Callable[..., Appointment],
        done: str,
        **kwargs: Any,
    ) -> None:
        changed = 0
        for appointment in queryset.select_related("doctor", "patient"):
            try:
                service(appointment=appointment, actor=actor_of(request), **kwargs)
                changed += 1
            except Conflict as exc:
                self.message_user(request, f"{appointment}: {exc.detail}", level=messages.ERROR)
        if changed:
            self.message_user(request, f"{changed} appointment(s) {done}.")

    @admin.action(
        description="Cancel the selected appointments (asks for a reason)", permissions=["change"]
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> HttpResponse | None:
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._apply(
                request,
                queryset,
                appointment_cancel,
                "cancelled",
                reason=form.cleaned_data["reason"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel appointments",
            "opts": self.model._meta,
            "queryset": queryset.select_related("doctor", "patient"),
            "form": form,
            "action": "cancel",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/appointments/appointment/cancel.html", context)

    @admin.action(description="Mark the selected appointments completed", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._apply(request, queryset, appointment_complete, "completed")

    @admin.action(description="Mark the selected appointments as no-shows", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._apply(request, queryset, appointment_mark_no_show, "marked as no-shows")

    # ------------------------------------------------------------------ day view

    def get_urls(self) -> list[URLPattern]:
        day = path(
            "day/",
            self.admin_site.admin_view(self.day_view),
            name="appointments_appointment_day",
        )
        return [day, *super().get_urls()]

    def day_view(self, request: HttpRequest) -> HttpResponse:
        """The clinic's day per doctor: appointments in order and the free slots to book."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        span = request.GET.get("span", "today")
        if span not in DAY_RANGES:
            span = "today"
        first, count = DAY_RANGES[span]
        chosen = parse_date(request.GET.get("date", "") or "")
        start_day: date = chosen or clinic_today() + timedelta(days=first)
        if chosen:
            count = 1
            span = "date"
        days = [start_day + timedelta(days=n) for n in range(count)]
        start = day_bounds(days[0])[0]
        end = day_bounds(days[-1])[1]
        doctors = list(Doctor.objects.filter(is_active=True).order_by("full_name", "id"))
        appointments = (
            Appointment.objects.filter(start_time__gte=start, start_time__lt=end)
            .select_related("patient", "doctor")
            .order_by("start_time", "id")
        )
        by_doctor: dict[Any, list[Appointment]] = {}
        for appointment in appointments:
            by_doctor.setdefault(appointment.doctor_id, []).append(appointment)
        now = timezone.now()
        duration = DAY_VIEW_MINUTES
        can_book = self.has_add_permission(request)
        columns = []
        for doctor in doctors:
            day_rows = []
            for day in days:
                day_start, day_end = day_bounds(day)
                booked = [
                    a for a in by_doctor.get(doctor.pk, []) if day_start <= a.start_time < day_end
                ]
                free = (
                    free_starts(doctor=doctor, day=day, duration_minutes=duration, now=now)
                    if can_book
                    else []
                )
                day_rows.append(
                    {
                        "day": day,
                        "appointments": [
                            {
                                "appointment": a,
                                "time": timezone.localtime(a.start_time, clinic_zone()),
                                "end": timezone.localtime(a.end_time, clinic_zone()),
                            }
                            for a in booked
                        ],
                        "free": [
                            {
                                "time": timezone.localtime(s, clinic_zone()),
                                "url": _book_url(start=s, doctor=doctor, duration_minutes=duration),
                            }
                            for s in free
                            if timezone.localtime(s, clinic_zone()).minute % duration == 0
                        ],
                    }
                )
            columns.append({"doctor": doctor, "days": day_rows})
        context = {
            **self.admin_site.each_context(request),
            "title": "Day view",
            "subtitle": None,
            "opts": self.model._meta,
            "span": span,
            "days": days,
            "columns": columns,
            "can_book": can_book,
            "zone": settings.CLINIC_TIME_ZONE,
            "slot_minutes": duration,
            "chosen_date": start_day,
        }
        return TemplateResponse(request, "admin/appointments/appointment/day.html", context)


def upcoming_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    if not request.user.has_perm("appointments.view_appointment"):
        return None
    rows = list(
        Appointment.objects.scheduled()
        .filter(patient=patient, start_time__gte=timezone.now())
        .select_related("doctor")
        .order_by("start_time", "id")[:UPCOMING_ON_CHART]
    )
    return {
        "upcoming": [{"appointment": a, "when": clinic_time(a.start_time)} for a in rows],
        "book_url": reverse("admin:appointments_appointment_add") + f"?patient={patient.pk}",
    }


register_chart_panel(
    "appointments",
    order=10,
    template="admin/appointments/appointment/chart_panel.html",
    context=upcoming_panel,
)
