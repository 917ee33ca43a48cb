"""The staff console's shared parts: branding from settings, helpers the apps' admin
pages use (clinic-local dates and times, the outcome badge, one-at-a-time deletes)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from outcomes.models import Outcome

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = settings.ADMIN_SITE_TITLE
admin.site.index_title = settings.ADMIN_INDEX_TITLE

# Severity at or above which an outcome is shown (and counted on the dashboard) as
# critical; the reference outcomes are healthy 0, monitor 1, critical 2.
CRITICAL_SEVERITY = 2


def clinic_zone() -> tzinfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def clinic_today() -> date:
    return timezone.localdate(timezone.now(), clinic_zone())


def clinic_time(moment: datetime | None) -> str:
    """``moment`` in the clinic's time zone, as staff read it: "Mon 7 Dec 2026, 09:30"."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment, clinic_zone())
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def outcome_badge(outcome: Outcome | None) -> SafeString:
    if outcome is None:
        return format_html('<span class="clinic-badge clinic-badge-none">{}</span>', "none yet")
    level = (
        "critical"
        if outcome.severity >= CRITICAL_SEVERITY
        else ("watch" if outcome.severity > 0 else "ok")
    )
    return format_html('<span class="clinic-badge clinic-badge-{}">{}</span>', level, outcome.label)


M = TypeVar("M", bound=Model)


def form_candidate(instance: M, data: Mapping[str, Any], fields: Iterable[str]) -> M:
    """A copy of a form's ``instance`` carrying the submitted ``fields``, for the services'
    non-writing checks in ``clean()`` (the instance itself stays as loaded; the write
    happens in ``save_model`` through the service)."""
    candidate = copy.copy(instance)
    candidate._state = copy.copy(instance._state)
    for name in fields:
        if name in data:
            setattr(candidate, name, data[name])
    return candidate


if TYPE_CHECKING:
    # The mixin is only ever combined with a ModelAdmin; say so to the type checker.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class OneAtATimeDeleteMixin(_ModelAdmin):
    """Deletes go through the service, one record at a time, and its refusal is shown.

    Django's bulk delete runs ``QuerySet.delete()`` and skips ``delete_model``, hence the
    services and their checks (dependents, appointments, outcomes in use): the action is
    removed. Django's own protected-objects check is left to the service too, so that a
    blocked delete shows the API's message (``delete_model`` raises ``Conflict``).
    """

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The service decides what may go (it refuses while dependents exist), not the
        # related models' delete permissions or PROTECT lists.
        deleted, counts, _perms, _protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), []

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        from core.errors import Conflict

        try:
            return super().delete_view(request, object_id, extra_context)
        except Conflict as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )
