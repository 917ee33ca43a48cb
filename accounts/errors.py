"""Error codes of sign-in and lockout (one place; raise sites and the schema use them)."""

from __future__ import annotations

from enum import StrEnum


class AccountErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    # Too many failed sign-ins for this account or from this address. The same answer
    # whether or not the username exists.
    LOCKED_OUT = "locked_out"
