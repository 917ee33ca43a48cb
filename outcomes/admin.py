from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.actors import actor_of
from core.admin import OneAtATimeDeleteMixin
from core.errors import Conflict
from outcomes.models import Outcome
from outcomes.services import (
    EDITABLE_FIELDS,
    normalise_code,
    outcome_check,
    outcome_create,
    outcome_delete,
    outcome_update,
)


class OutcomeAdminForm(forms.ModelForm[Outcome]):
    """Validates a new outcome with the services' own check (``outcome_check``), so that
    a duplicate code shows on the form with the API's wording; ``OutcomeAdmin.save_model``
    writes through the services. Also serves the changelist's editable columns."""

    class Meta:
        model = Outcome
        fields = ["code", *EDITABLE_FIELDS]

    def clean_code(self) -> Any:
        # On the changelist the code is the row's hidden primary-key field (an Outcome).
        code = self.cleaned_data["code"]
        return normalise_code(code) if isinstance(code, str) else code

    def clean(self) -> dict[str, Any]:
        super().clean()
        data: dict[str, Any] = self.cleaned_data
        if self.errors or not self.instance._state.adding:
            # An edit has no rule beyond the model's own validation (the code is
            # read-only once chosen).
            return data
        candidate = Outcome(**{name: data[name] for name in ("code", *EDITABLE_FIELDS)})
        try:
            outcome_check(outcome=candidate)
        except Conflict as exc:
            self.add_error("code", str(exc.detail))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(Outcome)
class OutcomeAdmin(OneAtATimeDeleteMixin, admin.ModelAdmin[Outcome]):
    form = OutcomeAdminForm
    list_display = ["code", "label", "severity", "is_active", "sort_order", "updated_at"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]
    ordering = ["sort_order", "severity", "code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Outcome | None = None) -> Any:
        # The code is the identity of the outcome: chosen once, never edited.
        return ["code", "created_at", "updated_at"] if obj else ["created_at", "updated_at"]

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        # The editable columns save through the services too.
        kwargs.setdefault("form", OutcomeAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Outcome, form: Any, change: bool) -> None:
        # One write path: the services (the form has run their checks already; a code
        # created in between is refused here by the service and the primary key). The
        # changelist's editable columns come here too, with only their own fields.
        if change:
            changes: dict[str, Any] = {
                name: form.cleaned_data[name]
                for name in EDITABLE_FIELDS
                if name in form.cleaned_data
            }
            outcome_update(
                outcome=Outcome.objects.get(pk=obj.pk), actor=actor_of(request), **changes
            )
        else:
            data: dict[str, Any] = {
                name: form.cleaned_data.get(name) for name in ("code", *EDITABLE_FIELDS)
            }
            outcome_create(**data, actor=actor_of(request))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Outcome) -> None:
        outcome_delete(outcome=obj, actor=actor_of(request))

    def has_delete_permission(self, request: HttpRequest, obj: Outcome | None = None) -> bool:
        # An outcome in use is never deleted (deactivate it instead); hide the button.
        if obj is not None and obj.interactions.exists():
            return False
        return super().has_delete_permission(request, obj)
