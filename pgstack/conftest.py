"""The database topology beyond one server, against real servers the suite starts itself.

Run it explicitly (it is outside the default collection; CI runs it as its own step):

    make pgstack

Once per session, on free 127.0.0.1 ports in a temporary directory: a PostgreSQL primary
(initdb), a hot standby streaming from it (pg_basebackup -R, a replication slot), and
PgBouncer in transaction pooling mode in front of the primary. Django's ``default`` alias
goes through PgBouncer (``DATABASE_PGBOUNCER`` settings), ``replica`` straight to the
standby; both are built by the same function as the settings' own
(``config.settings.base.database``). The test database is created on the primary and
reaches the standby by replication (``TEST: MIRROR``).

Skipped, with the reason, without PostgreSQL's initdb, pg_ctl and pg_basebackup. Without
pgbouncer (``.ci/install-system-packages`` installs it) the default alias goes to the
primary directly and the PgBouncer tests are skipped — except in CI (``CI`` set), where a
missing pgbouncer is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pgstack.servers import (
    DATABASE,
    PgBouncer,
    Primary,
    Standby,
    missing_postgres,
    pgbouncer_binary,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_postgres()
    for item in items:
        if "pgstack" not in Path(str(item.fspath)).parts:
            continue
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"pgstack needs {', '.join(missing)}"))
        elif "pgbouncer" in item.keywords and not pgbouncer_binary() and not os.environ.get("CI"):
            item.add_marker(
                pytest.mark.skip(
                    reason="pgbouncer is not installed (run .ci/install-system-packages)"
                )
            )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pgbouncer: needs the pgbouncer binary (pgstack; skipped without it)"
    )


@dataclass
class Stack:
    directory: Path
    primary: Primary
    standby: Standby
    pgbouncer: PgBouncer | None


@pytest.fixture(scope="session")
def pg_stack() -> Iterator[Stack]:
    if missing_postgres():
        pytest.skip(f"pgstack needs {', '.join(missing_postgres())}")
    directory = Path(tempfile.mkdtemp(prefix="clinic-pgstack-"))
    directory.chmod(0o755)  # the postgres user reads and writes in here
    for part in ("primary", "standby", "pgbouncer"):
        (directory / part).mkdir()
    (directory / "pgbouncer").chmod(0o755)
    primary = Primary(directory / "primary")
    standby = Standby(directory / "standby", primary)
    bouncer = PgBouncer(directory / "pgbouncer", primary) if pgbouncer_binary() else None
    try:
        primary.init()
        standby.init()
        if bouncer is not None:
            bouncer.start()
        yield Stack(directory, primary, standby, bouncer)
    finally:
        if bouncer is not None:
            bouncer.stop()
        for server in (standby, primary):
            with contextlib.suppress(Exception):  # stopped by a test, or never up
                server.stop()
        if os.environ.get("PGSTACK_KEEP_DIR"):
            print(f"pgstack files kept in {directory}")  # noqa: T201
        else:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, pg_stack: Stack
) -> None:
    """Point the test run at the stack, before pytest-django creates the test database."""
    from django.conf import settings
    from django.db import connections

    from config.settings.base import database

    if pg_stack.pgbouncer is not None:
        default = database(pg_stack.pgbouncer.url(DATABASE), pgbouncer=True)
    else:
        default = database(pg_stack.primary.url, pgbouncer=False)
    replica = {**database(pg_stack.standby.url, pgbouncer=False), "TEST": {"MIRROR": "default"}}
    for alias in ("default", "replica"):
        with contextlib.suppress(AttributeError):  # no connection object made yet
            del connections[alias]
    # The same dict Django's connection handler reads; then Django's defaults for both.
    settings.DATABASES["default"] = default
    settings.DATABASES["replica"] = replica
    connections.configure_settings(settings.DATABASES)


@pytest.fixture(scope="session")
def django_db_keepdb() -> bool:
    """No DROP DATABASE at the end (PgBouncer still holds server connections to it): the
    whole cluster is thrown away instead."""
    return True


@pytest.fixture
def stack(pg_stack: Stack) -> Stack:
    return pg_stack


@pytest.fixture
def pgbouncer(pg_stack: Stack) -> PgBouncer:
    if pg_stack.pgbouncer is None:
        pytest.fail("pgbouncer is not installed, and CI must run the PgBouncer tests")
    return pg_stack.pgbouncer
