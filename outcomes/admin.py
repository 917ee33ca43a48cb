from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.admin import OneAtATimeDeleteMixin
from core.errors import Conflict
from outcomes.models import Outcome
from outcomes.services import EDITABLE_FIELDS, outcome_create, outcome_delete, outcome_update


class OutcomeAdminForm(forms.ModelForm[Outcome]):
    """Saves through the services while validating, so that a duplicate code shows on the
    form with the API's wording. Also serves the changelist's editable columns."""

    class Meta:
        model = Outcome
        fields = ["code", *EDITABLE_FIELDS]

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            if self.instance._state.adding:
                data: dict[str, Any] = {
                    name: self.cleaned_data.get(name) for name in ("code", *EDITABLE_FIELDS)
                }
                self.instance = outcome_create(**data)
            else:
                changes = {
                    name: self.cleaned_data[name]
                    for name in EDITABLE_FIELDS
                    if name in self.cleaned_data
                }
                self.instance = outcome_update(
                    outcome=Outcome.objects.get(pk=self.instance.pk), **changes
                )
        except Conflict as exc:
            self.add_error("code" if "code" in self.fields else None, str(exc.detail))
        except ValidationError as exc:
            self.add_error(None, exc)


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
        # Already saved by OutcomeAdminForm through the services.
        pass

    def delete_model(self, request: HttpRequest, obj: Outcome) -> None:
        outcome_delete(outcome=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Outcome | None = None) -> bool:
        # An outcome in use is never deleted (deactivate it instead); hide the button.
        if obj is not None and obj.interactions.exists():
            return False
        return super().has_delete_permission(request, obj)
