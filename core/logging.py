"""Logging helpers."""

import logging

from core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record so formatters can always print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True
