"""Which driver errors mean "the database server is gone" (no Django imports: the
database backend itself uses this)."""

from __future__ import annotations

import psycopg

# SQLSTATEs meaning "the server went away or refuses connections" (class 08, and
# 57P01-57P03: terminated by an administrator, crash shutdown, cannot connect now).
CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_connection_failure(exc: BaseException) -> bool:
    """A driver error (psycopg's, before Django wraps it) meaning the server is gone:
    refused, timed out, no pooled connection in time, or lost mid-statement."""
    if not isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(CONNECTION_SQLSTATES)
