"""Interactions in the staff console. An entry is recorded once (the add form, through
``interaction_record``) and never edited: corrections are the amend and retract actions,
which go through the same services as the API (each on an intermediate page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.actors import actor_of
from core.errors import Conflict
from doctors.models import Doctor
from interactions.models import MAX_NOTES_LENGTH, Interaction
from interactions.services import (
    interaction_amend,
    interaction_check,
    interaction_record,
    interaction_retract,
)
from outcomes.models import Outcome


class RetractForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, strip=True)


class AmendForm(forms.Form):
    outcome = forms.ModelChoiceField(queryset=Outcome.objects.all())
    occurred_at = forms.DateTimeField(help_text="In the server's time zone (UTC).")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=MAX_NOTES_LENGTH
    )


class InteractionAddForm(forms.ModelForm[Interaction]):
    """Checked with the service's own rules in ``clean()``; saved by ``interaction_record``."""

    class Meta:
        model = Interaction
        fields = ["patient", "outcome", "occurred_at", "doctor", "notes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outcome, doctor = self.fields["outcome"], self.fields["doctor"]
        assert isinstance(outcome, forms.ModelChoiceField)
        assert isinstance(doctor, forms.ModelChoiceField)
        outcome.queryset = Outcome.objects.filter(is_active=True)
        doctor.queryset = Doctor.objects.filter(is_active=True)
        self.fields["occurred_at"].required = False
        self.fields["occurred_at"].help_text = "Leave empty for now."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if self.errors or not data.get("patient") or not data.get("outcome"):
            return data
        candidate = Interaction(
            patient=data["patient"],
            outcome=data["outcome"],
            occurred_at=data.get("occurred_at") or timezone.now(),
            doctor=data.get("doctor"),
            notes=data.get("notes") or "",
        )
        interaction_check(interaction=candidate)
        return data


def _error_text(exc: Conflict | ValidationError) -> str:
    if isinstance(exc, Conflict):
        return str(exc.detail)
    return " ".join(exc.messages)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin[Interaction]):
    list_display = ["occurred_at", "patient", "outcome", "status", "doctor", "recorded_by"]
    list_filter = ["status", "outcome", ("occurred_at", admin.DateFieldListFilter)]
    list_select_related = ["patient", "outcome", "doctor", "recorded_by"]
    search_fields = ["patient__mrn", "patient__last_name", "notes"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at", "-id"]
    actions = ["amend", "retract"]
    list_per_page = 50

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = InteractionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["patient", "outcome", "occurred_at", "doctor", "notes"]
        return [
            "patient",
            "occurred_at",
            "outcome",
            "status",
            "doctor",
            "appointment",
            "notes",
            "recorded_by",
            "amends",
            "retraction_reason",
            "retracted_at",
            "retracted_by",
            "recorded_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Entries are immutable: the page is read-only; amend/retract correct them.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_correct_permission(self, request: HttpRequest) -> bool:
        """Amend and retract are clinical writes: the role's change permission."""
        return request.user.has_perm("interactions.change_interaction")

    def save_model(self, request: HttpRequest, obj: Interaction, form: Any, change: bool) -> None:
        # One write path: the same service as the API.
        data = form.cleaned_data
        saved = interaction_record(
            patient=data["patient"],
            outcome=data["outcome"],
            occurred_at=data.get("occurred_at") or None,
            doctor=data.get("doctor"),
            notes=data.get("notes") or "",
            actor=actor_of(request),
        )
        obj.pk, obj.occurred_at, obj.recorded_at = saved.pk, saved.occurred_at, saved.recorded_at
        obj._state.adding = False

    def response_add(
        self, request: HttpRequest, obj: Interaction, post_url_continue: Any = None
    ) -> Any:
        # Back to the patient's chart, where the entry now heads the timeline.
        self.message_user(request, f"Recorded: {obj.outcome.label} for {obj.patient.full_name}.")
        from django.http import HttpResponseRedirect

        return HttpResponseRedirect(reverse("admin:patients_patient_change", args=[obj.patient_id]))

    def _intermediate(
        self,
        request: HttpRequest,
        queryset: QuerySet[Interaction],
        *,
        action: str,
        title: str,
        form: forms.Form,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/interactions/interaction/correction.html", context)

    @admin.action(
        description="Retract the selected entries (entered in error)…", permissions=["correct"]
    )
    def retract(self, request: HttpRequest, queryset: QuerySet[Interaction]) -> Any:
        form = RetractForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._intermediate(
                request, queryset, action="retract", title="Retract entries", form=form
            )
        done = 0
        for interaction in queryset:
            try:
                interaction_retract(
                    interaction=interaction,
                    reason=form.cleaned_data["reason"],
                    actor=actor_of(request),
                )
                done += 1
            except (Conflict, ValidationError) as exc:
                self.message_user(request, f"{interaction}: {_error_text(exc)}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} entr{'y' if done == 1 else 'ies'} retracted.")
        return None

    @admin.action(description="Amend the selected entry…", permissions=["correct"])
    def amend(self, request: HttpRequest, queryset: QuerySet[Interaction]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one entry to amend.", messages.WARNING)
            return None
        original = queryset.select_related("outcome").get()
        initial = {
            "outcome": original.outcome,
            "occurred_at": original.occurred_at,
            "notes": original.notes,
        }
        applying = "apply" in request.POST
        form = AmendForm(request.POST if applying else None, initial=initial)
        if applying and form.is_valid():
            changes = {
                name: form.cleaned_data[name] for name in form.changed_data if name in initial
            }
            try:
                amendment = interaction_amend(
                    interaction=original,
                    actor=actor_of(request),
                    **changes,
                )
            except (Conflict, ValidationError) as exc:
                form.add_error(None, _error_text(exc))
            else:
                self.message_user(request, f"Amended: the current entry is now {amendment}.")
                return None
        return self._intermediate(
            request, queryset, action="amend", title="Amend an entry", form=form
        )
