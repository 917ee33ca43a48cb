from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from core.actors import actor_of
from core.errors import ApiError
from patients.chart import register_chart_panel
from patients.models import Patient
from summaries.models import (
    AUDIENCE_CHOICES,
    DEFAULT_AUDIENCE,
    DEFAULT_LENGTH,
    LENGTH_CHOICES,
    Summary,
    SummaryStatus,
)
from summaries.services import summary_request, summary_retry


class GenerateForm(forms.Form):
    audience = forms.ChoiceField(choices=AUDIENCE_CHOICES, initial=DEFAULT_AUDIENCE)
    length = forms.ChoiceField(choices=LENGTH_CHOICES, initial=DEFAULT_LENGTH)


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin[Summary]):
    """Read-only: summaries are made by the workers; the admin can only retry failed ones."""

    list_display = ("created_at", "patient", "audience", "length", "status", "provider", "model")
    list_filter = ("status", "audience", "length", "provider")
    search_fields = ("patient__mrn", "patient__last_name", "id")
    list_select_related = ("patient", "requested_by")
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Summary | None = None) -> bool:
        return False

    @admin.action(description="Retry the selected failed summaries")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Summary]) -> None:
        retried = 0
        for summary in queryset.filter(status="failed"):
            try:
                summary_retry(summary=summary)
            except ApiError as exc:
                self.message_user(request, f"{summary.pk}: {exc.detail}", messages.ERROR)
                return
            retried += 1
        self.message_user(request, f"{retried} summaries queued again.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        generate = path(
            "generate/<uuid:patient_id>/",
            self.admin_site.admin_view(self.generate_view),
            name="summaries_summary_generate",
        )
        return [generate, *super().get_urls()]

    def generate_view(self, request: HttpRequest, patient_id: Any) -> HttpResponse:
        """POST from the chart: queue a summary (the API's service) and go back."""
        if request.method != "POST" or not request.user.has_perm("summaries.add_summary"):
            raise PermissionDenied
        patient = get_object_or_404(Patient, pk=patient_id)
        form = GenerateForm(request.POST)
        chart = reverse("admin:patients_patient_change", args=[patient.pk])
        if not form.is_valid():
            self.message_user(request, "Choose an audience and a length.", messages.ERROR)
            return HttpResponseRedirect(chart)
        try:
            summary, created = summary_request(
                patient=patient,
                audience=form.cleaned_data["audience"],
                length=form.cleaned_data["length"],
                actor=actor_of(request),
            )
        except ApiError as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)
        else:
            state = "queued" if created else f"already {summary.get_status_display().lower()}"
            self.message_user(request, f"Summary {state}.", messages.SUCCESS)
        return HttpResponseRedirect(chart + "#panel-summary")


def summary_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    if not request.user.has_perm("summaries.view_summary"):
        return None
    latest = Summary.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    pending = latest is not None and latest.status in (SummaryStatus.QUEUED, SummaryStatus.RUNNING)
    return {
        "summary": latest,
        "summary_pending": pending,
        "summary_text": (latest.result or {}).get("narrative", "") if latest else "",
        "can_generate": request.user.has_perm("summaries.add_summary"),
        "generate_form": GenerateForm(),
        "generate_url": reverse("admin:summaries_summary_generate", args=[patient.pk]),
        "print_url": reverse("api:patient-summary-page", kwargs={"patient_pk": patient.pk}),
    }


register_chart_panel(
    "summary", order=30, template="admin/summaries/summary/chart_panel.html", context=summary_panel
)
