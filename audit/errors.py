"""Error codes of the audit trail."""

from __future__ import annotations

from core.errors import ErrorCode


class AuditErrorCode(ErrorCode):
    # An access or change could not be recorded: the data is not served, the change is
    # rolled back.
    AUDIT_UNAVAILABLE = "audit_unavailable"
