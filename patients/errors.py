"""The patients slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class PatientErrorCode(ErrorCode):
    DUPLICATE_EMAIL = "duplicate_email"
    # Field codes (inside ``errors``).
    TOO_OLD = "too_old"
