"""Interactions are read-only in the admin: corrections are the amend and retract actions,
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

from core.actors import actor_of
from core.errors import Conflict
from core.permissions import Role, role_of
from interactions.models import MAX_NOTES_LENGTH, Interaction
from interactions.services import interaction_amend, interaction_retract
from outcomes.models import Outcome


class RetractForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, strip=True)


class AmendForm(forms.Form):
    outcome = forms.ModelChoiceField(queryset=Outcome.objects.all())
    occurred_at = forms.DateTimeField(help_text="In the server's time zone (UTC).")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=MAX_NOTES_LENGTH
    )


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_correct_permission(self, request: HttpRequest) -> bool:
        """Amend and retract are clinical writes: Providers and Admins."""
        return role_of(request.user) >= Role.PROVIDER

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
                    retracted_by=actor_of(request),
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
                    amended_by=actor_of(request),
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


class InteractionHistoryInline(admin.TabularInline[Interaction, Any]):
    """The patient's interaction history, read-only, oldest first (every status)."""

    model = Interaction
    fk_name = "patient"
    fields = ["occurred_at", "outcome", "status", "doctor", "notes", "recorded_by"]
    readonly_fields = ["occurred_at", "outcome", "status", "doctor", "notes", "recorded_by"]
    ordering = ["occurred_at", "id"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Interaction history"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Interaction]:
        return super().get_queryset(request).select_related("outcome", "doctor", "recorded_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
