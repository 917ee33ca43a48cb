"""The one place where imports and exports become audit events.

Every import (synchronous, job or command: :func:`record_import`) and every export calls
:func:`record_transfer` once,
with the row count: one audit event (``import`` or ``export``, resource type, row count,
client address and request id from the request when there is one) and one structured log
line (logger ``clinic.transfers``, no patient data).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

if TYPE_CHECKING:
    from transfers.importing import ImportReport

logger = logging.getLogger("clinic.transfers")


def record_transfer(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    resource: str,
    rows: int,
    file_format: str,
    request: HttpRequest | None = None,
    status_code: int | None = None,
    **details: Any,
) -> None:
    """Record that ``actor`` imported or exported (``action``) ``rows`` rows of
    ``resource`` (``patients`` or ``interactions``) as ``file_format``. ``request`` is
    the API or admin request (None for jobs and commands), for the audit trail's
    client address and request id."""
    from audit.models import Action
    from audit.recorder import audit_record

    username = actor.get_username() if isinstance(actor, User) else None
    audit_record(
        action=Action.EXPORT if action == "export" else Action.IMPORT,
        resource_type=resource.rstrip("s"),
        row_count=rows,
        request=request,
        status_code=status_code,
        actor=actor if isinstance(actor, User) else None,
    )
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


def record_import(
    report: ImportReport,
    *,
    actor: User | None,
    kind: str,
    request: HttpRequest | None = None,
    **details: Any,
) -> None:
    """Record one finished import (``report``): an ``import`` event with the rows written,
    or ``import_dry_run`` when nothing was meant to be written. The API, the jobs and
    the commands all call this, as the importer's ``finish`` hook when rows were written
    (so the event commits with them) and afterwards when none were."""
    record_transfer(
        actor=actor,
        action="import_dry_run" if report.options.dry_run else "import",
        resource=kind,
        rows=report.created + report.updated if report.written else 0,
        file_format=report.format,
        request=request,
        total_rows=report.total_rows,
        errors=len(report.errors),
        **details,
    )
