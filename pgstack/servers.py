"""The servers of the pgstack suite: a primary, its streaming standby, and PgBouncer.

Built on the fault suite's throw-away PostgreSQL (faults/stack.py): initdb into a
temporary directory, pg_ctl on a free 127.0.0.1 port, trust authentication, run as the
``postgres`` user when the suite runs as root. Nothing here touches the machine's own
PostgreSQL. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from faults.stack import PG_BIN, Postgres, _as_postgres, free_port, port_open, wait_until

DATABASE = "clinic_scale_pgstack"
# pg_trgm's threshold as a server setting: a connection through PgBouncer cannot carry
# it in the `options` startup parameter (docs/deployment.md, "PgBouncer").
SERVER_OPTIONS = (
    "-c wal_level=replica -c max_wal_senders=4 -c pg_trgm.word_similarity_threshold=0.3 "
    "-c max_standby_streaming_delay=5s"
)
# Fewer server connections than the API has threads and pooled client connections, so
# transactions of different clients really share server connections.
PGBOUNCER_POOL_SIZE = 3


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )


def missing_postgres() -> list[str]:
    return [
        str(PG_BIN / name)
        for name in ("initdb", "pg_ctl", "pg_basebackup")
        if not (PG_BIN / name).exists()
    ]


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return list(conn.execute(sql, params).fetchall())


class Primary(Postgres):
    """The primary: WAL for a standby, the suite's server settings."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, database=DATABASE, options=SERVER_OPTIONS)
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def wal_lsn(self) -> str:
        return str(query(self.admin_url, "SELECT pg_current_wal_lsn()")[0][0])


class Standby(Postgres):
    """A hot standby of ``primary``: pg_basebackup -R (streaming, with a replication slot)."""

    def __init__(self, directory: Path, primary: Primary) -> None:
        super().__init__(directory, database=DATABASE, options=SERVER_OPTIONS)
        self.primary = primary
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run(
            str(PG_BIN / "pg_basebackup"),
            "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream", "-C", "-S", "pgstack_standby",
            "-c", "fast", "--no-sync",
        )  # fmt: skip
        self.data.chmod(0o700)
        self.start()
        in_recovery = query(self.admin_url, "SELECT pg_is_in_recovery()")[0][0]
        assert in_recovery, "the standby is not in recovery"

    def replayed(self, lsn: str) -> bool:
        sql = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        return bool(query(self.admin_url, sql, lsn)[0][0])

    def catch_up(self, timeout: float = 20) -> None:
        """Wait until everything the primary has written so far is replayed here."""
        lsn = self.primary.wal_lsn()
        wait_until(lambda: self.replayed(lsn), timeout=timeout, what=f"replay of {lsn}")

    @contextlib.contextmanager
    def replay_paused(self) -> Iterator[None]:
        """Inside the block the standby keeps what it has and applies nothing new."""
        self.catch_up()
        query(self.admin_url, "SELECT pg_wal_replay_pause()")
        wait_until(
            lambda: (
                query(self.admin_url, "SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused"
            ),
            timeout=10,
            what="replay to pause",
        )
        try:
            yield
        finally:
            query(self.admin_url, "SELECT pg_wal_replay_resume()")
            self.catch_up()


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of ``upstream``, on a free port."""

    def __init__(self, directory: Path, upstream: Postgres) -> None:
        self.directory = directory
        self.port = free_port()
        self.log = directory / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None
        (directory / "userlist.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={upstream.port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'userlist.txt'}\n"
            "admin_users = postgres\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {PGBOUNCER_POOL_SIZE}\n"
            "max_client_conn = 200\n"
            # psycopg sends none of these, but a stray one must not refuse the connection.
            "ignore_startup_parameters = extra_float_digits\n"
        )
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/pgbouncer"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        binary = pgbouncer_binary()
        assert binary is not None
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [binary, str(self.directory / "pgbouncer.ini")],
                stdout=handle,
                stderr=subprocess.STDOUT,
                preexec_fn=_as_postgres(),  # pgbouncer refuses to run as root
                start_new_session=True,
            )
        wait_until(lambda: port_open(self.port), timeout=15, what="pgbouncer to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def show(self, what: str) -> list[dict[str, Any]]:
        """``SHOW <what>`` on the admin console (simple query protocol only)."""
        with (
            psycopg.connect(
                self.admin_url,
                autocommit=True,
                connect_timeout=5,
                cursor_factory=psycopg.ClientCursor,
            ) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
