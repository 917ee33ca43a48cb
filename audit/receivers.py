"""Signal receivers: infrastructure hooks, not domain flows.

* ``post_save`` / ``post_delete``: while a write request is in progress (an
  :class:`audit.recorder.AuditScope` is current), the first save or delete of the
  request's resource model, or of a model declared to stand for it, records the
  request's event in the same transaction (with ``each``: every changed record's).
* ``user_logged_in`` / ``user_logged_out`` / ``user_login_failed``: the admin console's
  sign-ins. The API's token endpoint records its own events (``token_issued``,
  ``login_failed``), so failures there are skipped here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from audit.models import Action, AuditChainHead, AuditEvent
from audit.recorder import already_recorded, audit_record, current_scope

_IGNORED = (AuditEvent, AuditChainHead)


def _changed(instance: models.Model, action: str) -> None:
    scope = current_scope()
    if scope is None or scope.model is None or isinstance(instance, _IGNORED):
        return
    if type(instance) in scope.related:
        instance = getattr(instance, scope.related[type(instance)])
        action = Action.UPDATE
    if not isinstance(instance, scope.model):
        return
    if scope.event is not None and (
        not scope.each or getattr(instance, scope.id_field) in scope.recorded
    ):
        return
    scope.record_change(instance, action)


@receiver(post_save, dispatch_uid="audit-post-save")
def _saved(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    _changed(instance, Action.CREATE if created else Action.UPDATE)


@receiver(post_delete, dispatch_uid="audit-post-delete")
def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    _changed(instance, Action.DELETE)


def _is_api(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith("/api/")


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and not _is_api(request) and not already_recorded(request):
        audit_record(request=request, actor=user, action=Action.LOGIN, resource_type="session")


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and user is not None and not already_recorded(request):
        audit_record(request=request, actor=user, action=Action.LOGOUT, resource_type="session")


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None or _is_api(request) or already_recorded(request):
        return
    # The attempted username (Django has already removed the password from credentials).
    audit_record(
        request=request,
        actor=None,
        actor_username=str(credentials.get("username", "")),
        action=Action.LOGIN_FAILED,
        resource_type="session",
    )
