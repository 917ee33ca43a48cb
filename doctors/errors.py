"""The doctors slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class DoctorErrorCode(ErrorCode):
    DUPLICATE_EMAIL = "duplicate_email"
    USER_ALREADY_LINKED = "user_already_linked"
