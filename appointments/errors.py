"""The appointments slice's error codes (see ``core.errors``)."""

from __future__ import annotations

from core.errors import ErrorCode


class AppointmentErrorCode(ErrorCode):
    DOCTOR_INACTIVE = "doctor_inactive"
    DOCTOR_CONFLICT = "doctor_conflict"
    PATIENT_CONFLICT = "patient_conflict"
    ALREADY_CANCELLED = "already_cancelled"
    NOT_SCHEDULED = "not_scheduled"
    NOT_STARTED = "not_started"
