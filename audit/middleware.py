"""Auditing for the admin console, whatever its ModelAdmins look like.

The middleware recognises the admin's model views by their URL names
(``<app>_<model>_changelist``, ``_change``, ``_add``, ``_delete``, ``_history``, and the
autocomplete endpoint), so every registered model is covered without touching its
``admin.py``:

* a changelist records ``list`` (``search`` with ``?q=``) with the patients it showed
  in ``returned_ids``; a change, delete-confirmation or history page records ``view``;
* a POST (add, change, delete, a changelist action) sets the same write scope as the API
  (``audit.recorder.AuditScope``): the first save or delete of the model records the
  event in the admin's transaction; a changelist action, which changes each selected
  record in its own service transaction, records one event per changed record, each
  in its record's transaction. A POST that saved nothing (a form error) is recorded
  after the response;
* a 403 records ``permission_denied``.

Sign-ins and sign-outs come from Django's auth signals (``audit.receivers``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db import DatabaseError, models
from django.http import HttpRequest, HttpResponse

from audit.models import Action, AuditEvent, is_patient_model
from audit.recorder import AuditScope, _scope, audit_failure_response, audit_record, patient_of
from core.errors import ServiceUnavailable

logger = logging.getLogger("clinic.audit")

ADMIN_APP = "admin"
KINDS = ("changelist", "add", "change", "delete", "history")


@dataclass
class AdminTarget:
    kind: str
    model: type[models.Model] | None
    object_id: str | None


def _model_views() -> dict[str, tuple[type[models.Model], str]]:
    views = {}
    for model in admin.site._registry:
        opts = model._meta
        for kind in KINDS:
            views[f"{opts.app_label}_{opts.model_name}_{kind}"] = (model, kind)
    return views


def _patient_of(obj: Any) -> Any:
    # django-simple-history's records stand for the instance they copy.
    if is_patient_model(getattr(obj, "instance_type", None)):
        return getattr(obj, "id", None)
    return patient_of(obj) if isinstance(obj, models.Model) else None


class AdminAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        target: AdminTarget | None = getattr(request, "_audit_admin", None)
        if target is None:
            return response
        scope: AuditScope | None = getattr(request, "_audit_admin_scope", None)
        token = getattr(request, "_audit_admin_token", None)
        if token is not None:
            _scope.reset(token)
        try:
            self._record(request, response, target, scope)
        except (DatabaseError, OSError, ServiceUnavailable) as exc:
            return audit_failure_response(exc)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        match = request.resolver_match
        if match is None or match.app_name != ADMIN_APP:
            return
        name = match.url_name or ""
        if name == "autocomplete":
            model = _autocomplete_model(request)
            request._audit_admin = AdminTarget("autocomplete", model, None)  # type: ignore[attr-defined]
            return
        found = _model_views().get(name)
        if found is None:
            return
        model, kind = found
        object_id = view_kwargs.get("object_id")
        request._audit_admin = AdminTarget(kind, model, object_id)  # type: ignore[attr-defined]
        if request.method == "POST":
            action = {"add": Action.CREATE, "delete": Action.DELETE}.get(kind, Action.UPDATE)
            scope = AuditScope(
                request=request,
                resource_type=model._meta.model_name or "",
                model=model,
                action=action,
                # A changelist action changes each selected record in its own service
                # transaction: each gets its event there.
                each=kind == "changelist",
            )
            request._audit_admin_scope = scope  # type: ignore[attr-defined]
            request._audit_admin_token = _scope.set(scope)  # type: ignore[attr-defined]

    def _record(
        self,
        request: HttpRequest,
        response: HttpResponse,
        target: AdminTarget,
        scope: AuditScope | None,
    ) -> None:
        if scope is not None and scope.event is not None and _stored(scope.event):
            return
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return  # redirected to the login page: nothing was shown
        if target.kind == "add" and request.method != "POST":
            return  # an empty form
        context = getattr(response, "context_data", None) or {}
        model = target.model
        resource = model._meta.model_name if model is not None else ""
        returned: list[Any] = []
        patient = None
        if response.status_code == 403:
            action = Action.PERMISSION_DENIED
        elif target.kind == "autocomplete":
            action = Action.SEARCH
            returned = _autocomplete_ids(response, model)
        elif target.kind == "changelist":
            if request.method == "POST":
                action = Action.UPDATE
                selected = request.POST.getlist("_selected_action")
                if model is not None and selected:
                    returned = [
                        _patient_of(o) for o in model._default_manager.filter(pk__in=selected)
                    ]
            else:
                action = Action.SEARCH if request.GET.get("q") else Action.LIST
                changelist = context.get("cl")
                rows = getattr(changelist, "result_list", None) or []
                returned = [_patient_of(row) for row in rows]
        elif request.method == "POST":
            action = {"add": Action.CREATE, "delete": Action.DELETE}.get(target.kind, Action.UPDATE)
        else:
            action = Action.VIEW
        if target.object_id is not None and model is not None:
            obj = context.get("original") or context.get("object")
            if not isinstance(obj, model):
                obj = model._default_manager.filter(pk=target.object_id).first()
            patient = _patient_of(obj)
        audit_record(
            request=request,
            action=action,
            resource_type=resource or "",
            resource_id=target.object_id,
            patient_id=patient,
            returned_ids=[r for r in returned if r],
            status_code=response.status_code,
            deferred=request.method in ("GET", "HEAD"),
        )


def _stored(event: AuditEvent) -> bool:
    return AuditEvent.objects.filter(pk=event.pk).exists()


def _autocomplete_model(request: HttpRequest) -> type[models.Model] | None:
    from django.apps import apps

    try:
        source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        field = source._meta.get_field(request.GET["field_name"])
    except (KeyError, LookupError, Exception):
        return None
    related = getattr(field, "related_model", None)
    return related if isinstance(related, type) else None


def _autocomplete_ids(response: HttpResponse, model: type[models.Model] | None) -> list[Any]:
    if not is_patient_model(model) or response.status_code != 200:
        return []
    try:
        results = json.loads(response.content).get("results", [])
    except (ValueError, AttributeError):
        return []
    return [r.get("id") for r in results if isinstance(r, dict)]
