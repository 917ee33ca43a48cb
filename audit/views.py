"""Auditing for API views: one mixin, declarations per view.

Put :class:`Audited` first in a view's bases. Every request (but ``OPTIONS`` and
anonymous 401s) then records exactly one :class:`audit.models.AuditEvent`:

* **writes** (POST, PUT, PATCH, DELETE) inside the transaction of the change: the first
  save or delete of the view's resource model writes the event (``audit.receivers``), so
  if the event cannot be written the change is rolled back with it. A write that saved
  nothing (400, 404, 409, ...) is recorded after the response, with its status;
* **reads** once the response is known: ``patient_id`` and, for lists, searches and
  timelines, ``returned_ids`` (the patients in the response);
* **403s** as ``permission_denied``, whatever the operation.

The action comes from the viewset action (``list`` -> ``list`` or ``search`` when
``?search=`` is given, ``retrieve`` -> ``view``, ``create``, ``update``,
``partial_update`` -> ``update``, ``destroy`` -> ``delete``) or the HTTP method; custom
actions declare theirs in ``audit_actions``. The resource type is the model's name unless
``audit_resource`` says otherwise. The patient is found from the URL (``patient_pk`` /
``patient_id``), the object the view loaded (``get_object``), or the response body.

If a read's event cannot be written, the client gets 503 ``audit_unavailable`` instead of
the data: nothing is served unaudited.

``AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT`` ("break the glass"): a read of a patient
the user has no appointment with (as the doctor linked to their account) needs an
``X-Access-Reason`` header; without one it is a 403 ``access_reason_required``, with one
the event records the reason and ``break_glass: true``.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import DatabaseError, models
from django.http import HttpRequest, HttpResponseBase
from rest_framework import exceptions
from rest_framework.exceptions import APIException
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from audit.models import Action, AuditEvent, is_patient_model, model_for
from audit.recorder import (
    AuditScope,
    access_reason,
    already_recorded,
    audit_failure_response,
    audit_record,
    patient_of,
    write_scope,
)
from core.db.router import primary
from core.errors import CoreErrorCode, ServiceUnavailable

logger = logging.getLogger("clinic.audit")

DEFAULT_ACTIONS: dict[str, str] = {
    "retrieve": Action.VIEW,
    "create": Action.CREATE,
    "update": Action.UPDATE,
    "partial_update": Action.UPDATE,
    "destroy": Action.DELETE,
    "get": Action.VIEW,
    "head": Action.VIEW,
    "post": Action.CREATE,
    "put": Action.UPDATE,
    "patch": Action.UPDATE,
    "delete": Action.DELETE,
}
LIST_ACTIONS = {Action.LIST, Action.SEARCH}
PATIENT_KWARGS = ("patient_pk", "patient_id")
REASON_REQUIRED = "access_reason_required"


def has_care_relationship(user: Any, patient_id: uuid.UUID) -> bool:
    """Whether the user is the doctor of one of the patient's appointments."""
    appointments = model_for("appointments.Appointment")._default_manager
    return appointments.filter(patient_id=patient_id, doctor__user_id=user.pk).exists()


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _items(data: Any) -> list[Any] | None:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    if isinstance(data, list):
        return data
    return None


if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView

    _Base = GenericAPIView[Any]
else:
    _Base = object


class Audited(_Base):
    """Mixin for APIView / GenericAPIView / viewsets: records one event per request."""

    # Resource type; default: the queryset model's name ("patient", "note", ...).
    audit_resource: ClassVar[str | None] = None
    # The model whose first save/delete records a write; default: the queryset's model.
    audit_model: ClassVar[type[models.Model] | None] = None
    # Viewset action or lower-case method -> action, or (action, resource type).
    audit_actions: ClassVar[dict[str, str | tuple[str, str]]] = {}
    # Viewset action or method -> {response status: action}, for failures with their own
    # action (a refused sign-in is ``login_failed``).
    audit_failure_actions: ClassVar[dict[str, dict[int, str]]] = {}
    # The attribute naming a record in events.
    audit_id_field: ClassVar[str] = "pk"
    # Models whose save is a change of the resource (the model -> the attribute holding
    # the resource): a second signature of a note saves only a ``Signature``.
    audit_related: ClassVar[dict[type[models.Model], str]] = {}
    # Reads of the audit trail itself do not need a reason to be given.
    audit_reason_exempt: ClassVar[bool] = False

    # ---------------------------------------------------------------- declarations
    def _audit_model(self) -> type[models.Model] | None:
        if self.audit_model is not None:
            return self.audit_model
        queryset = getattr(self, "queryset", None)
        if queryset is None:
            serializer = getattr(self, "serializer_class", None)
            return getattr(getattr(serializer, "Meta", None), "model", None)
        return queryset.model

    def _audit_operation(self) -> tuple[str, str]:
        name = getattr(self, "action", None) or self.request.method.lower()  # type: ignore[union-attr]
        model = self._audit_model()
        resource = self.audit_resource or (model._meta.model_name if model else "") or ""
        declared = self.audit_actions.get(name)
        if isinstance(declared, tuple):
            return declared
        if declared:
            return declared, resource
        if name == "list":
            search = self.request.query_params.get("search", "").strip()
            return (Action.SEARCH if search else Action.LIST), resource
        method = (self.request.method or "").lower()
        # A method the view does not serve (TRACE, QUERY, ...) is refused with 405; it is
        # recorded as an attempted read.
        return DEFAULT_ACTIONS.get(name, DEFAULT_ACTIONS.get(method, Action.VIEW)), resource

    # ---------------------------------------------------------------- request cycle
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "OPTIONS":
            return super().dispatch(request, *args, **kwargs)
        self._audit_scope = AuditScope(request=request, resource_type="", model=None, action=None)
        request._audit_recorded = False  # type: ignore[attr-defined]
        self._audit_object: models.Model | None = None
        self._audit_break_glass = False
        self._audit_reason_checked: set[uuid.UUID] = set()
        if request.method in SAFE_METHODS:
            response = super().dispatch(request, *args, **kwargs)
        else:
            with write_scope(self._audit_scope):
                response = super().dispatch(request, *args, **kwargs)
        try:
            self._audit_after(request, response)
        except (DatabaseError, OSError, ServiceUnavailable) as exc:
            return audit_failure_response(exc)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "OPTIONS":
            return
        # Authenticated and allowed: a write from here on records its event with the change.
        action, resource = self._audit_operation()
        scope = self._audit_scope
        scope.model, scope.resource_type, scope.action = self._audit_model(), resource, action
        scope.id_field = self.audit_id_field
        scope.related = dict(self.audit_related)
        patient = self._patient_from_url()
        if patient is not None:
            self._check_reason(patient)

    def get_object(self) -> Any:
        obj = super().get_object()
        if self.request.method == "OPTIONS":
            return obj
        self._audit_object = obj
        patient = patient_of(obj)
        if patient is not None:
            self._check_reason(patient)
        return obj

    # ---------------------------------------------------------------- break the glass
    def _check_reason(self, patient: uuid.UUID) -> None:
        if (
            not settings.AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT
            or self.audit_reason_exempt
            or self.request.method not in SAFE_METHODS
            or patient in self._audit_reason_checked
        ):
            return
        self._audit_reason_checked.add(patient)
        # An access decision reads the primary, even in a view reading a replica: an
        # appointment booked a moment ago already grants the access.
        with primary():
            related = has_care_relationship(self.request.user, patient)
        if related:
            return
        if not access_reason(self.request._request):
            raise exceptions.PermissionDenied(
                "You have no appointment with this patient: state why you need the record "
                "in the X-Access-Reason header.",
                code=REASON_REQUIRED,
            )
        self._audit_scope.break_glass = self._audit_break_glass = True

    # ---------------------------------------------------------------- the event
    def _patient_from_url(self) -> uuid.UUID | None:
        kwargs = getattr(self, "kwargs", {}) or {}
        for name in PATIENT_KWARGS:
            if name in kwargs:
                return _as_uuid(kwargs[name])
        model = self._audit_model()
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        if is_patient_model(model) and lookup in kwargs:
            return _as_uuid(kwargs[lookup])
        return None

    def _patient_of_id(self, resource_id: Any) -> uuid.UUID | None:
        model = self._audit_model()
        if model is None or not any(f.name == "patient" for f in model._meta.fields):
            return None
        try:
            found = model._default_manager.filter(pk=resource_id).values_list("patient_id")
            row = found.first()
        except (ValueError, TypeError, DatabaseError):
            return None
        return row[0] if row else None

    def _audit_after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        scope = self._audit_scope
        if scope.event is not None:
            if AuditEvent.objects.filter(pk=scope.event.pk).exists():
                return  # written with the change, and the change committed
        elif already_recorded(request):
            return  # recorded by the code that served it (e.g. a lockout: ``locked_out``)
        status = response.status_code
        body = getattr(response, "data", None)
        if (
            status == 503
            and request.method not in SAFE_METHODS
            and isinstance(body, dict)
            and body.get("code") == CoreErrorCode.DATABASE_UNAVAILABLE
        ):
            # The write met an unreachable database and did not happen; its refusal cannot
            # be stored there either, and trying would hold the client for another
            # connect timeout. The access log has the 503.
            return
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        operation = getattr(self, "action", None) or (request.method or "").lower()
        failure_action = self.audit_failure_actions.get(operation, {}).get(status)
        if not authenticated and failure_action is None:
            return  # 401 (no or bad credentials): nobody to attribute a read to
        if getattr(self, "request", None) is None or not isinstance(self.request, Request):
            return
        action, resource = self._audit_operation()
        if failure_action is not None:
            action = failure_action
        elif status == 403:
            action = Action.PERMISSION_DENIED
        data = getattr(response, "data", None)
        obj = self._audit_object
        patient = self._patient_from_url() or patient_of(obj)
        if patient is None and isinstance(data, dict) and status < 300:
            key = "id" if resource == "patient" else "patient_id"
            patient = _as_uuid(data.get(key))
        resource_id: Any = obj.pk if obj is not None else None
        if resource_id is None:
            lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
            resource_id = self.kwargs.get(lookup) if self.kwargs else None
        if resource_id is None and isinstance(data, dict) and status < 300:
            resource_id = data.get("id")
        if patient is None and obj is None and resource_id is not None:
            # Refused before the view loaded the record (e.g. an invalid body).
            patient = self._patient_of_id(resource_id)
        returned: list[Any] = []
        if action in LIST_ACTIONS or (action == Action.VIEW and _items(data) is not None):
            key = "id" if resource == "patient" else "patient_id"
            returned = [i.get(key) for i in _items(data) or [] if isinstance(i, dict)]
            if patient is not None:
                returned.append(patient)
        attempted = None
        if action == Action.LOGIN_FAILED:
            try:
                body = self.request.data
            except APIException:
                body = None  # an unreadable body (415, parse error): no username to record
            name = body.get("username") if isinstance(body, dict) else None
            attempted = str(name)[:150] if name else ""
        audit_record(
            request=request,
            actor_username=attempted,
            action=action,
            resource_type=resource,
            resource_id=resource_id,
            patient_id=patient,
            returned_ids=returned,
            status_code=status,
            break_glass=self._audit_break_glass,
            deferred=request.method in SAFE_METHODS,
        )
