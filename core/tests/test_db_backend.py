"""The PostgreSQL backend fails fast once a connection found the server gone.

Against real sockets and the real test database: a listener that accepts and never
answers stands in for a server that hangs, and ``pg_terminate_backend`` ends a session
mid-transaction as a PostgreSQL shutdown does.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction

from core.db.postgresql.base import DatabaseWrapper, StillUnreachable
from core.errors import is_database_unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class SilentServer:
    """Accepts TCP connections, counts them, never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(client)

    def close(self) -> None:
        self.sock.close()
        for client in self.accepted:
            client.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _wrapper(**overrides: Any) -> DatabaseWrapper:
    settings = {**connections.settings[DEFAULT_DB_ALIAS], **overrides}
    settings["OPTIONS"] = {
        key: value for key, value in settings["OPTIONS"].items() if key != "pool"
    } | {"connect_timeout": 1}
    return DatabaseWrapper(settings, alias="unreachable-test")


def test_the_configured_backend_is_this_one() -> None:
    assert isinstance(connections[DEFAULT_DB_ALIAS], DatabaseWrapper)


def test_a_second_connect_within_the_window_does_not_wait_again(silent: SilentServer) -> None:
    db = _wrapper(HOST="127.0.0.1", PORT=silent.port)
    with pytest.raises(OperationalError) as first:
        db.ensure_connection()  # libpq waits connect_timeout for an answer that never comes
    assert is_database_unavailable(first.value)
    assert len(silent.accepted) == 1

    with pytest.raises(OperationalError) as second:
        db.ensure_connection()
    assert isinstance(second.value.__cause__, StillUnreachable)
    assert is_database_unavailable(second.value)  # the client gets the same 503
    assert len(silent.accepted) == 1  # no second attempt reached the server

    # A new request starts with a clean slate and really tries again.
    db.forget_unreachable()
    with pytest.raises(OperationalError) as third:
        db.ensure_connection()
    assert not isinstance(third.value.__cause__, StillUnreachable)
    assert len(silent.accepted) == 2


def test_the_fast_failure_does_not_extend_its_own_window(silent: SilentServer) -> None:
    db = _wrapper(HOST="127.0.0.1", PORT=silent.port)
    with pytest.raises(OperationalError):
        db.ensure_connection()
    remembered = db.unreachable_at
    with pytest.raises(OperationalError):
        db.ensure_connection()
    assert db.unreachable_at == remembered  # outside requests (workers) it expires


@pytest.mark.django_db(transaction=True)
def test_a_session_killed_mid_transaction_is_not_reconnected_by_the_block_exit() -> None:
    """Django's atomic exit reconnects after dropping a broken connection; with the
    server down that waited the connect timeout a second time in the same request."""
    db = _wrapper()
    connections[db.alias] = db  # so transaction.atomic(using=...) finds it
    try:
        db.ensure_connection()
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]

        def killed_mid_transaction() -> None:
            with transaction.atomic(using=db.alias):
                with db.cursor() as cursor:
                    cursor.execute("SELECT 1")
                with connection.cursor() as killer:
                    killer.execute("SELECT pg_terminate_backend(%s)", [pid])
                with db.cursor() as cursor:
                    cursor.execute("SELECT 1")

        with pytest.raises(OperationalError) as lost:
            killed_mid_transaction()
        assert is_database_unavailable(lost.value)
        assert db.unreachable_at is not None
        # The exit's reconnect was refused at once rather than attempted.
        assert isinstance(lost.value.__cause__, StillUnreachable)
        assert db.connection is None
    finally:
        db.close()
        del connections[db.alias]
