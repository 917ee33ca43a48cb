"""The user admin, extended with the sign-in unlock action (accounts.lockout)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.lockout import unlock


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


class ClinicUserAdmin(UserAdmin):
    actions = [unlock_sign_in]


admin.site.unregister(User)
admin.site.register(User, ClinicUserAdmin)
