"""Django's PostgreSQL backend, failing fast once this connection found the server gone.

While PostgreSQL is down, a request must get its 503 ``database_unavailable`` within
``DB_CONNECT_TIMEOUT_SECONDS``. Django alone can wait that long twice in one request:
when a statement inside ``transaction.atomic`` fails because the server went away, the
rollback fails too, Django drops the connection, and the block's exit then reconnects
(``set_autocommit(True)``), which waits for the pool or libpq's ``connect_timeout`` a
second time before the error reaches the view. The fault suite measured 6.4 s on a busy
machine (``faults/test_postgres_down.py``).

So each connection (one per thread and alias) remembers when it last found the server
unreachable: a failed connect, or a statement that failed with a connection-class error.
For ``DB_CONNECT_TIMEOUT_SECONDS`` after that, a new connection attempt fails at once
with the same kind of error instead of waiting again. Every HTTP request starts with a
clean slate (``core.apps`` clears it on ``request_started``), so a request never fails
fast because of an earlier one; outside requests (Celery tasks, commands) the memory
simply expires.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.utils import DatabaseErrorWrapper
from django.utils.functional import cached_property

from core.db.failures import is_connection_failure


class StillUnreachable(psycopg.OperationalError):
    """Raised instead of connecting again within the window (no SQLSTATE, like a refused
    connection: ``core.errors`` answers it with 503 ``database_unavailable``)."""


class _RememberingErrorWrapper(DatabaseErrorWrapper):
    """Django's error translation, noting a lost server on the connection first."""

    wrapper: DatabaseWrapper

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if (
            exc_value is not None
            and not isinstance(exc_value, StillUnreachable)  # the window never extends itself
            and is_connection_failure(exc_value)
        ):
            self.wrapper.unreachable_at = time.monotonic()
        super().__exit__(exc_type, exc_value, traceback)


class DatabaseWrapper(base.DatabaseWrapper):
    unreachable_at: float | None = None

    @cached_property
    def wrap_database_errors(self) -> DatabaseErrorWrapper:
        return _RememberingErrorWrapper(self)

    def forget_unreachable(self) -> None:
        self.unreachable_at = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        window = settings.DB_CONNECT_TIMEOUT_SECONDS
        if self.unreachable_at is not None and time.monotonic() - self.unreachable_at < window:
            raise StillUnreachable(
                "the database was unreachable moments ago on this connection; not waiting again"
            )
        connection = super().get_new_connection(conn_params)
        self.unreachable_at = None
        return connection
