"""The trail is append-only and tamper-evident, and its chain never forks."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from audit.chain import append, verify
from audit.models import Action, AppendOnlyError, AuditEvent
from audit.recorder import audit_record


def _record(n: int) -> list[AuditEvent]:
    return [
        audit_record(action=Action.VIEW, resource_type="patient", resource_id=str(i))
        for i in range(n)
    ]


def _verify_output() -> str:
    try:
        call_command("verify_audit")
    except CommandError as exc:
        return str(exc)
    return "intact"


def _raw(sql: str, params: list[Any]) -> None:
    """Change the table behind the application's back, as an intruder with SQL would
    (on PostgreSQL with the append-only trigger switched off first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


@pytest.mark.django_db
def test_the_model_refuses_changes_and_deletes() -> None:
    (event,) = _record(1)
    event.reason = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditevent SET reason = 'edited'", "DELETE FROM audit_auditevent"],
)
def test_postgresql_rejects_update_and_delete(sql: str) -> None:
    _record(2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.filter(reason="").count() == 2


@pytest.mark.django_db
def test_verify_audit_passes_an_intact_chain() -> None:
    _record(5)
    assert verify() == (5, None)
    assert _verify_output() == "intact"


@pytest.mark.django_db
def test_verify_audit_finds_a_tampered_row() -> None:
    events = _record(5)
    _raw("UPDATE audit_auditevent SET resource_id = %s WHERE seq = %s", ["999", events[2].seq])
    checked, problem = verify()
    assert checked == 2
    assert problem is not None and problem.seq == events[2].seq
    assert "altered" in _verify_output()


@pytest.mark.django_db
def test_verify_audit_finds_a_deleted_row() -> None:
    events = _record(5)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [events[1].seq])
    checked, problem = verify()
    assert (checked, problem and problem.seq) == (1, events[1].seq)
    assert "missing" in _verify_output()


@pytest.mark.django_db
def test_verify_audit_finds_a_removed_tail() -> None:
    events = _record(3)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [events[-1].seq])
    checked, problem = verify()
    assert checked == 2 and problem is not None and "head" in problem.problem


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    """Eight threads, each with its own connection, append at once; every event follows
    exactly one predecessor."""
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with transaction.atomic():
                    append(action=Action.VIEW, resource_type="patient", resource_id=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert verify() == (80, None)
    prev = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev)) == 80  # no two events share a predecessor
