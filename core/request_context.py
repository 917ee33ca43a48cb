"""The current request's id, visible to log records and error bodies."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served on this thread/task, if any."""
    return request_id_var.get()
