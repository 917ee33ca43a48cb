"""The interactions slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class InteractionErrorCode(ErrorCode):
    NOT_CURRENT = "not_current"
    # Field codes (inside ``errors``).
    OUTCOME_INACTIVE = "outcome_inactive"
    OTHER_PATIENT = "other_patient"
    NO_CHANGES = "no_changes"
