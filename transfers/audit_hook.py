"""The one place where imports and exports become audit events.

Every import (synchronous or job) and every export calls :func:`record_transfer` once,
with the row count. Until the audit trail app is installed this writes a structured log
line (logger ``clinic.transfers``); when it is, this function is the only thing that
changes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

logger = logging.getLogger("clinic.transfers")


def record_transfer(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    resource: str,
    rows: int,
    file_format: str,
    request: HttpRequest | None = None,
    **details: Any,
) -> None:
    """Record that ``actor`` imported or exported (``action``) ``rows`` rows of
    ``resource`` (``patients`` or ``interactions``) as ``file_format``. ``request`` is
    the API or admin request (None for jobs and commands), for the audit trail's
    client address and request id."""
    username = actor.get_username() if isinstance(actor, User) else None
    logger.info(
        "%s %s: %d rows (%s) by %s",
        action,
        resource,
        rows,
        file_format,
        username or "system",
        extra={
            "transfer_action": action,
            "transfer_resource": resource,
            "transfer_rows": rows,
            "transfer_format": file_format,
            "transfer_actor": username,
            **{f"transfer_{k}": v for k, v in details.items()},
        },
    )
