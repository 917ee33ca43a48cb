"""Staff accounts in the console: Admins create them with a role picker (the role groups),
never with raw permission lists; the role decides what each account may do. The list has
the sign-in unlock action (accounts.lockout)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.lockout import unlock
from accounts.services import user_set_role, user_upsert
from core.actors import SYSTEM_USERNAME
from core.permissions import ROLE_GROUPS, Role

ROLE_CHOICES = [(role.name.lower(), f"{role.label}") for role in ROLE_GROUPS]
ROLE_HELP = (
    "Viewer: reads every record. Provider: registers patients, books and cancels, records "
    "interactions and notes, requests summaries. Admin: everything, including outcomes, "
    "doctors and staff accounts."
)


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=ROLE_CHOICES, help_text=ROLE_HELP)


class StaffCreationForm(UserCreationForm[User]):
    role = _role_field()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")


class StaffChangeForm(UserChangeForm[User]):
    role = _role_field()

    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "is_active")  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            names = {g.name for g in self.instance.groups.all()}
            held = [role for role, name in ROLE_GROUPS.items() if name in names]
            if held:
                self.fields["role"].initial = max(held).name.lower()


@admin.action(description="Unlock sign-in (clear failed attempts)", permissions=["change"])
def unlock_sign_in(
    modeladmin: admin.ModelAdmin[User], request: HttpRequest, queryset: QuerySet[User]
) -> None:
    removed = sum(unlock(username=user.get_username()) for user in queryset)
    modeladmin.message_user(
        request,
        f"Sign-in unlocked for {queryset.count()} account(s); {removed} failure record(s) removed.",
        messages.SUCCESS,
    )


admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(UserAdmin):
    actions = [unlock_sign_in]
    form = StaffChangeForm
    add_form = StaffCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "is_active")}),
        ("History", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "role",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "email", "role_display", "is_active")
    list_filter = ("groups", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    filter_horizontal = ()

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # A role Admin manages staff, not superusers (their passwords and flags included);
        # nobody edits the system account (core.actors), which must never sign in.
        if obj is not None and obj.username == SYSTEM_USERNAME:
            return False
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.username == SYSTEM_USERNAME:
            return False
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Role")
    def role_display(self, user: User) -> str:
        if user.is_superuser:
            return "Admin (superuser)"
        names = {g.name for g in user.groups.all()}
        held = [role for role, name in ROLE_GROUPS.items() if name in names]
        return max(held).label if held else "none"

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # One write path: the same services as `create_api_user`.
        role = Role[form.cleaned_data["role"].upper()]
        if change:
            obj.save()
            user_set_role(user=obj, role=role)
            return
        created = user_upsert(
            username=obj.username,
            role=role,
            password=form.cleaned_data["password1"],
            first_name=obj.first_name,
            last_name=obj.last_name,
            email=obj.email,
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The role is the only relation an account has here; save_model set it.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
