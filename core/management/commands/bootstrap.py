"""Idempotent start-up: apply migrations (and optionally the demo data) under a lock.

Every container that starts the API runs this before gunicorn, and the Kubernetes
migration Job runs it on its own. Running it twice changes nothing the second time, and
two replicas starting at once do not race: on PostgreSQL the whole start-up holds a
session-level advisory lock, so the second replica waits, then finds nothing to do.
SQLite has a single writer and is only used by one process, so it takes no lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# Fixed key for pg_advisory_lock: the bytes of "clinicbs" read as a signed 64-bit integer.
# Any process of this project that wants to serialise against start-up uses this key.
BOOTSTRAP_LOCK_KEY = int.from_bytes(b"clinicbs", "big", signed=True)

DEMO_SEED_COMMAND = "seed_demo"


@contextmanager
def bootstrap_lock(alias: str = DEFAULT_DB_ALIAS) -> Iterator[str]:
    """Hold the start-up lock for the duration of the block; yield what was taken.

    The lock belongs to the database session, so it is released explicitly at the end
    (and by the server if the process dies while holding it).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield f"no lock ({connection.vendor} has a single writer)"
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [BOOTSTRAP_LOCK_KEY])
    try:
        yield f"pg_advisory_lock({BOOTSTRAP_LOCK_KEY})"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BOOTSTRAP_LOCK_KEY])


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Names (``app.name``) of the migrations ``migrate`` would apply now."""
    executor = MigrationExecutor(connections[alias])
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


class Command(BaseCommand):
    help = (
        "Idempotent start-up: take the start-up lock (PostgreSQL), apply migrations and, "
        "with --seed-demo, load the demo clinic. Safe to run on every container start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed-demo",
            action="store_true",
            help="Also load the demo clinic and demo users (seed_demo --allow-production).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias to bootstrap (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias: str = options["database"]
        seed_demo: bool = options["seed_demo"]
        verbosity: int = options["verbosity"]
        self.stdout.write(f"bootstrap: waiting for the start-up lock on '{alias}'")
        with bootstrap_lock(alias) as lock:
            self.stdout.write(f"bootstrap: holding {lock}")
            pending = pending_migrations(alias)
            if pending:
                self.stdout.write(f"bootstrap: applying {len(pending)} migration(s)")
                call_command(
                    "migrate",
                    database=alias,
                    interactive=False,
                    verbosity=max(verbosity - 1, 0),
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
            else:
                self.stdout.write("bootstrap: no migrations to apply")
            if seed_demo:
                self.stdout.write("bootstrap: loading the demo clinic (seed_demo)")
                call_command(
                    DEMO_SEED_COMMAND,
                    allow_production=True,
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
        self.stdout.write(self.style.SUCCESS("bootstrap: done"))
