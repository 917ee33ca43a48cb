"""The accounts slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    INVALID_CREDENTIALS = "invalid_credentials"
    # Too many failed sign-ins for this account or from this address (accounts.lockout);
    # the same answer whether or not the username exists.
    LOCKED_OUT = "locked_out"
