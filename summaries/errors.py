"""The summaries slice's error codes (see ``core.errors``).

``SummaryErrorCode`` is what the API answers; ``JobErrorCode`` (defined by the engine,
which has no Django in it) is what a failed job records in its ``error.code``.
"""

from __future__ import annotations

from core.errors import ErrorCode
from summaries.engine.core import JobErrorCode

__all__ = ["JobErrorCode", "SummaryErrorCode"]


class SummaryErrorCode(ErrorCode):
    QUEUE_UNAVAILABLE = "queue_unavailable"
    SUMMARY_FAILED = "summary_failed"
    SUMMARY_NOT_FAILED = "summary_not_failed"
