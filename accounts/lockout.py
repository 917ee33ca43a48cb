"""Lockout after repeated failed sign-ins (django-axes), on every surface that checks a
password: the token endpoint, the admin login and note signing.

* Failures are counted per account (the username as typed, across addresses) and per
  client address (``core.client_ip``, across accounts). The account limit
  (``LOCKOUT_ACCOUNT_FAILURE_LIMIT``) is lower than the address limit
  (``LOCKOUT_ADDRESS_FAILURE_LIMIT``), because a whole clinic may share one address.
* While locked, every attempt is refused before the password is looked at, the right
  password included, for ``LOCKOUT_COOLOFF_MINUTES`` after the last failure. A success
  clears that account's and that address's failures.
* The answer is a 429 ``locked_out`` in the API's error shape (an HTML page on the
  admin login), the same whether or not the username exists.
* An Admin unlocks with the "Unlock sign-in" action on the user list, or
  ``manage.py unlock --username U`` / ``--ip A`` (:func:`unlock`).
* Each lockout sends :data:`account_locked_out` (``username``, ``ip_address``,
  ``request``): the audit trail records it as ``locked_out``.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.dispatch import Signal, receiver
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.errors import AccountErrorCode
from core.errors import ApiError, error_body

logger = logging.getLogger("clinic.security")

# Sent once each time an account or an address becomes locked, and again for each
# attempt refused while locked. Arguments: request, username (as typed; may not
# exist), ip_address.
account_locked_out = Signal()

LOCKED_OUT_DETAIL = "Too many failed sign-in attempts. Try again later or ask an Admin."


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in ``AUTHENTICATION_BACKENDS``.

    Every sign-in surface passes the request. A call without one (Django's test client
    ``login()``, code that checks a password in-process) has no client to lock out and is
    let through to the next backend instead of failing.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """Separate limits for the account and for the address.

    django-axes compares the largest count over its lockout parameters with one limit
    (``AXES_FAILURE_LIMIT``, the account limit here). This reports an address that has
    reached its own, higher limit as having reached the account limit.
    ``AXES_LOCKOUT_PARAMETERS`` is ``["username", "ip_address"]``, in that order.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.LOCKOUT_ADDRESS_FAILURE_LIMIT:
            return max(by_account, settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT)
        return int(by_account)


class LockedOut(ApiError):
    """429 ``locked_out``: raised by a sign-in surface after a refused attempt."""

    status_code = 429
    default_code = AccountErrorCode.LOCKED_OUT
    default_detail = LOCKED_OUT_DETAIL

    def __init__(self) -> None:
        super().__init__()
        self.wait = retry_after_seconds()


def is_locked_out(request: HttpRequest) -> bool:
    """Whether the last ``authenticate(request, ...)`` was refused or caused a lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def retry_after_seconds() -> int:
    return settings.LOCKOUT_COOLOFF_MINUTES * 60


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out client sees (``AXES_LOCKOUT_CALLABLE``): JSON on the API, the
    admin's lockout page elsewhere. Never the username or the failure count."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        response: HttpResponse = JsonResponse(
            error_body(AccountErrorCode.LOCKED_OUT, LOCKED_OUT_DETAIL), status=429
        )
    else:
        response = TemplateResponse(
            request,
            "admin/locked_out.html",
            {"title": "Sign-in locked", "detail": LOCKED_OUT_DETAIL},
            status=429,
        )
        response.render()
    response["Retry-After"] = str(retry_after_seconds())
    return response


def unlock(*, username: str | None = None, ip_address: str | None = None) -> int:
    """Clear the failures of ``username`` and/or ``ip_address``; returns how many records
    were removed. With both, either matching is cleared."""
    if not username and not ip_address:
        raise ValueError("unlock needs a username or an address")
    removed = 0
    if username:
        removed += reset(username=username)
    if ip_address:
        removed += reset(ip=ip_address)
    logger.warning(
        "sign-in unlocked",
        extra={"unlocked_username": bool(username), "unlocked_address": bool(ip_address)},
    )
    return removed


@receiver(user_locked_out)
def _announce_lockout(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    # The log line says that a lockout happened, not who or from where (a username as
    # typed can be a password pasted into the wrong field); the audit trail has the rest.
    logger.warning("sign-in locked out")
    account_locked_out.send(
        sender=LockoutHandler, request=request, username=username, ip_address=ip_address
    )
