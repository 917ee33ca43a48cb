"""The accounts slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    INVALID_CREDENTIALS = "invalid_credentials"
