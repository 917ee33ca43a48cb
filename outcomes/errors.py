"""The outcomes slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class OutcomeErrorCode(ErrorCode):
    DUPLICATE_CODE = "duplicate_code"
    # Field codes (inside ``errors``).
    CODE_IMMUTABLE = "code_immutable"
    INVALID_CODE = "invalid_code"
