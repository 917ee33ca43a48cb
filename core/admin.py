"""Admin helpers shared by the apps' consoles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class OneAtATimeDeleteMixin:
    """Removes the "delete selected" bulk action.

    Django's bulk delete runs ``QuerySet.delete()`` and skips ``delete_model``, hence the
    services and their checks (dependents, appointments, outcomes in use). Deleting one
    record at a time goes through the service.
    """

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions
