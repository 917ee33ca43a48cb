"""The start-up command is idempotent and serialises concurrent starts on PostgreSQL."""

from __future__ import annotations

import io
import threading

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

from core.management.commands.bootstrap import BOOTSTRAP_LOCK_KEY, pending_migrations


def run_bootstrap(*args: str) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def database_snapshot() -> dict[str, object]:
    """What a start-up could change: applied migrations and the rows migrate creates."""
    return {
        "migrations": sorted(MigrationRecorder.Migration.objects.values_list("app", "name")),
        "content_types": ContentType.objects.count(),
        "permissions": Permission.objects.count(),
        "groups": sorted(Group.objects.values_list("name", flat=True)),
    }


@pytest.mark.django_db(transaction=True)
def test_bootstrap_applies_pending_migrations_then_changes_nothing_the_second_time():
    # Take one app back to zero so the first run has real work to do.
    call_command("migrate", "patients", "zero", verbosity=0)
    pending = pending_migrations()
    assert any(name.startswith("patients.") for name in pending)

    first = run_bootstrap()
    assert f"applying {len(pending)} migration(s)" in first
    assert pending_migrations() == []
    after_first = database_snapshot()

    second = run_bootstrap()
    assert "no migrations to apply" in second
    assert "bootstrap: done" in second
    assert database_snapshot() == after_first


@pytest.mark.django_db(transaction=True)
def test_bootstrap_names_the_lock_it_takes(is_postgres: bool):
    output = run_bootstrap()
    if is_postgres:
        assert f"holding pg_advisory_lock({BOOTSTRAP_LOCK_KEY})" in output
    else:
        assert "no lock" in output


@pytest.mark.django_db
def test_seed_demo_flag_loads_the_demo_clinic_once(settings):
    from patients.models import Patient

    settings.ENVIRONMENT = "production"  # what the image runs: the flag opts in explicitly
    first = run_bootstrap("--seed-demo")
    assert "loading the demo clinic" in first
    counts = (Patient.objects.count(), Group.objects.get(name="Admin").user_set.count())
    assert counts[0] >= 30
    run_bootstrap("--seed-demo")
    assert (Patient.objects.count(), Group.objects.get(name="Admin").user_set.count()) == counts


def _lock_waiters() -> int:
    """Sessions currently waiting (not yet granted) for the bootstrap advisory lock."""
    key = BOOTSTRAP_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s AND objid = %s",
            [key >> 32, key & 0xFFFFFFFF],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bootstraps_both_succeed_and_the_second_waits_for_the_first():
    before = database_snapshot()
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def start(name: str) -> None:
        try:
            results[name] = run_bootstrap()
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    # Hold the lock from this session so both starts queue up behind it, then let go:
    # they must run one after the other, and both must finish cleanly.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [BOOTSTRAP_LOCK_KEY])
    threads = [threading.Thread(target=start, args=(name,)) for name in ("a", "b")]
    try:
        for thread in threads:
            thread.start()
        for _ in range(2000):  # bounded: both threads reach the lock well within this
            if _lock_waiters() == 2 or errors:
                break
            threading.Event().wait(0.01)
        assert errors == []
        assert _lock_waiters() == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BOOTSTRAP_LOCK_KEY])
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    assert sorted(results) == ["a", "b"]
    for output in results.values():
        assert "bootstrap: done" in output
    assert _lock_waiters() == 0
    assert database_snapshot() == before
