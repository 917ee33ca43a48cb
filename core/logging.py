"""Logging helpers."""

import logging

from core.request_context import current_request_id


class RedactRequestFilter(logging.Filter):
    """Drops the request object Django attaches to ``django.request`` records.

    Its text includes the query string, which can hold a searched patient name; the
    access log already records the route and status, and the error log the request id.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            del record.request
        if isinstance(record.args, tuple) and record.args:
            # "Internal Server Error: %s" with the path: keep the path, which carries ids
            # only, never the query string.
            record.args = tuple(
                str(a).split("?", 1)[0] if isinstance(a, str) else a for a in record.args
            )
        return True


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record so formatters can always print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True
