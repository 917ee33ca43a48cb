"""Recording events: the public ``audit_record()`` and the per-request write scope.

``audit_record(...)`` is the one entry point other code calls, e.g. an importer or
exporter::

    from audit.recorder import audit_record
    audit_record(request=request, action=Action.EXPORT, resource_type="patient",
                 row_count=len(rows), returned_ids=[p.pk for p in patients])

Called inside a transaction, the event commits or rolls back with it.

Writes recorded by the API views and the admin console ride in the transaction of the
change: while such a request runs, an :class:`AuditScope` is current, and the first
save or delete of the request's resource model (or of a model that stands for it, such
as a note's signature) writes the event right there (see ``audit.receivers``). A request
that saved nothing (a validation error, a refusal) gets its event after the response,
with its status.

If an event cannot be written, :func:`audit_record` raises :class:`AuditUnavailable`
(503 ``audit_unavailable``; ``database_unavailable`` when the database is unreachable),
never the database's own error: raised inside a service's transaction it rolls the
change back, and no ``except IntegrityError`` around a save can mistake it for a
constraint violation. A service whose change is written with queryset ``update()`` (no
``post_save``) locks the row and saves it instead, so that its event joins the change.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.chain import append
from audit.errors import AuditErrorCode
from audit.models import Action, AuditEvent, is_patient_model
from audit.spool import spool
from core.client_ip import client_ip
from core.errors import DatabaseUnavailable, ServiceUnavailable, is_database_unavailable
from core.permissions import Role, role_of
from core.request_context import current_request_id

REASON_HEADER = "X-Access-Reason"
MAX_REASON = 500
MAX_USER_AGENT = 512


logger = logging.getLogger("clinic.audit")


class AuditUnavailable(ServiceUnavailable):
    default_code = AuditErrorCode.AUDIT_UNAVAILABLE
    default_detail = (
        "The access could not be recorded in the audit trail, so it did not happen. "
        "Try again later."
    )


def audit_unavailable(exc: BaseException) -> ServiceUnavailable:
    """The 503 for an event that could not be written because of ``exc``."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    if is_database_unavailable(exc):
        logger.warning("audit event not written: the database is unavailable")
        return DatabaseUnavailable()
    # The error's class and message only: events hold no clinical content, and the
    # statement's parameters are not logged.
    logger.error("audit event could not be written: %s: %s", type(exc).__name__, exc)
    return AuditUnavailable()


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request).strip()))
    except ValueError:
        return None


def access_reason(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return request.headers.get(REASON_HEADER, "").strip()[:MAX_REASON]


def patient_of(instance: models.Model | None) -> uuid.UUID | None:
    """The patient a record belongs to: the patient itself, or its ``patient`` foreign key."""
    if instance is None:
        return None
    if is_patient_model(type(instance)):
        return instance.pk
    value = getattr(instance, "patient_id", None)
    return value if isinstance(value, uuid.UUID) else None


def _uuids(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        try:
            seen[str(uuid.UUID(str(value)))] = None
        except (TypeError, ValueError, AttributeError):
            continue
    return list(seen)


def audit_record(
    *,
    action: Action | str,
    resource_type: str = "",
    resource_id: Any = None,
    patient_id: Any = None,
    returned_ids: Iterable[Any] = (),
    row_count: int | None = None,
    request: HttpRequest | None = None,
    actor: Any = None,
    actor_username: str | None = None,
    status_code: int | None = None,
    reason: str | None = None,
    break_glass: bool = False,
    deferred: bool = False,
) -> AuditEvent:
    """Append one event. ``actor`` defaults to the request's user; ``ip``, user agent,
    request id and reason (``X-Access-Reason``) come from ``request``. Only identifiers go
    in: never names, note text or other clinical content.

    ``deferred``: a read's event, which goes through the crash-safe spool when
    ``AUDIT_READ_MODE`` is ``spool`` (see ``audit.spool``).

    Raises :class:`AuditUnavailable` (or ``DatabaseUnavailable``) if the event cannot be
    stored; inside a transaction, the transaction then fails with it."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    role = role_of(actor) if authenticated else Role.NONE
    if actor_username is None:
        actor_username = actor.get_username() if authenticated else ""
    patient = _uuids([patient_id])[0] if patient_id else None
    fields: dict[str, Any] = {
        "actor_id": actor.pk if authenticated else None,
        "actor_username": (actor_username or "")[:150],
        "actor_role": role.label if role != Role.NONE else "",
        "action": str(action),
        "resource_type": resource_type,
        "resource_id": str(resource_id)[:64] if resource_id is not None else "",
        "patient_id": uuid.UUID(patient) if patient else None,
        "returned_ids": _uuids(returned_ids),
        "row_count": row_count,
        "request_id": (current_request_id() or getattr(request, "request_id", "") or "")[:64],
        "ip": _ip(request),
        "user_agent": (request.headers.get("User-Agent", "") if request else "")[:MAX_USER_AGENT],
        "status_code": status_code,
        "reason": access_reason(request) if reason is None else reason[:MAX_REASON],
        "break_glass": break_glass,
    }
    try:
        if deferred and settings.AUDIT_READ_MODE == "spool":
            event = AuditEvent(id=uuid.uuid4(), at=timezone.now(), **fields)
            spool.put(
                {
                    **fields,
                    "id": str(event.id),
                    "at": event.at.isoformat(),
                    "patient_id": patient,
                }
            )
        else:
            event = append(**fields)
    except (DatabaseError, OSError) as exc:
        raise audit_unavailable(exc) from exc
    if request is not None:
        request._audit_recorded = True  # type: ignore[attr-defined]
    return event


@dataclass
class AuditScope:
    """A write request in progress: what its event will say, once the change is saved."""

    request: HttpRequest
    resource_type: str
    model: type[models.Model] | None
    action: str | None  # None: create or update, as the save says
    break_glass: bool = False
    # The attribute that identifies a resource in events (a token's public key, not its
    # digest).
    id_field: str = "pk"
    # Models whose save stands for a change of the resource: model -> the attribute
    # holding the resource (a second signature saves only a ``Signature``: ``"note"``).
    related: dict[type[models.Model], str] = field(default_factory=dict)
    # Record every changed record, not only the first (the admin's bulk actions: each
    # record changes in its own service transaction, each gets its event there).
    each: bool = False
    recorded: set[Any] = field(default_factory=set)
    event: AuditEvent | None = None
    committed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def record_change(self, instance: models.Model, action: str) -> None:
        """Called on the first save/delete of the resource model: the event joins the
        transaction of the change."""
        actor = getattr(self.request, "user", None)
        if actor is None or not actor.is_authenticated:
            # Signing in: the token being created names its user.
            actor = getattr(instance, "user", None)
        resource_id = getattr(instance, self.id_field)
        self.event = audit_record(
            request=self.request,
            actor=actor,
            action=self.action or action,
            resource_type=self.resource_type,
            resource_id=resource_id,
            patient_id=patient_of(instance),
            break_glass=self.break_glass,
        )
        self.recorded.add(resource_id)

        def mark() -> None:
            self.committed = True

        transaction.on_commit(mark)


_scope: ContextVar[AuditScope | None] = ContextVar("audit_scope", default=None)


def current_scope() -> AuditScope | None:
    return _scope.get()


@contextmanager
def write_scope(scope: AuditScope) -> Iterator[AuditScope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def already_recorded(request: HttpRequest) -> bool:
    return bool(getattr(request, "_audit_recorded", False))


def audit_failure_response(exc: BaseException) -> Any:
    """The answer when an access's event cannot be written: the data is not served.

    With the database unreachable that is the database's own 503 (what the request would
    have met anyway); otherwise 503 ``audit_unavailable``.
    """
    from core.errors import json_error_response

    unavailable = audit_unavailable(exc)
    return json_error_response(503, unavailable.error_code, str(unavailable.detail))
