"""Archiving old audit events: the file, the anchor, the sanctioned delete, verification."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.chain import append_many, content_hash
from audit.models import AppendOnlyError, AuditArchive, AuditEvent
from audit.tests.test_chain import _raw

pytestmark = pytest.mark.django_db


def _events_at(*times: datetime) -> None:
    """Events that happened at ``times``, stored in that order (as spooled reads are)."""
    append_many(
        [
            {
                "id": str(uuid.uuid4()),
                "at": when.isoformat(),
                "action": "view",
                "resource_type": "patient",
                "resource_id": str(uuid.uuid4()),
                "patient_id": uuid.uuid4(),
                "returned_ids": [],
            }
            for when in times
        ]
    )


def day(month: int, dd: int = 10) -> datetime:
    return datetime(2026, month, dd, 12, tzinfo=UTC)


def _archive(before: str, directory: Path) -> str:
    out = StringIO()
    call_command("audit_archive", before=before, output=str(directory), stdout=out)
    return out.getvalue()


def _verify(*archives: Path) -> str:
    out = StringIO()
    try:
        call_command("verify_audit", archive=[str(a) for a in archives], stdout=out)
    except CommandError as exc:
        return f"broken: {exc}"
    return out.getvalue()


def _only_file(directory: Path) -> Path:
    (path,) = sorted(directory.glob("audit-*.ndjson"))
    return path


def test_events_before_the_month_move_to_a_file_and_verification_starts_at_the_anchor(
    tmp_path: Path,
) -> None:
    _events_at(day(1), day(1, 20), day(2), day(3), day(4))
    output = _archive("2026-03", tmp_path)
    assert "3 events (seq 1-3)" in output

    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5]
    anchor = AuditArchive.objects.get()
    assert (anchor.from_seq, anchor.through_seq, anchor.event_count) == (1, 3, 3)
    path = _only_file(tmp_path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == "clinic-audit-archive"
    assert [line["seq"] for line in lines[1:]] == [1, 2, 3]
    assert all(line["hash"] == content_hash(line) for line in lines[1:])
    assert lines[-1]["hash"] == anchor.last_hash
    assert AuditEvent.objects.get(seq=4).prev_hash == anchor.last_hash

    assert "intact: 2 events verified" in _verify()
    assert "3 events verified (seq 1-3), matches its anchor" in _verify(path)


def test_a_second_archive_continues_the_first(tmp_path: Path) -> None:
    _events_at(day(1), day(2), day(3), day(4))
    _archive("2026-02", tmp_path / "first")
    _archive("2026-04", tmp_path / "second")
    first, second = AuditArchive.objects.order_by("through_seq")
    assert (first.from_seq, first.through_seq) == (1, 1)
    assert (second.from_seq, second.through_seq, second.prev_hash) == (2, 3, first.last_hash)
    assert "intact: 1 events verified" in _verify()
    output = _verify(_only_file(tmp_path / "first"), _only_file(tmp_path / "second"))
    assert output.count("matches its anchor") == 2


def test_a_late_read_of_the_month_before_stays_online_until_the_next_archive(
    tmp_path: Path,
) -> None:
    # A read of February stored after a March event (it waited in the spool).
    _events_at(day(1), day(3, 1), day(2, 28))
    assert "1 events (seq 1-1)" in _archive("2026-03", tmp_path)
    assert list(AuditEvent.objects.values_list("seq", flat=True).order_by("seq")) == [2, 3]
    assert "intact" in _verify()


def test_nothing_before_the_month(tmp_path: Path) -> None:
    _events_at(day(5))
    assert "nothing before 2026-03 to archive" in _archive("2026-03", tmp_path)
    assert AuditEvent.objects.count() == 1
    assert not AuditArchive.objects.exists()


def test_a_future_cutoff_or_a_bad_month_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="future"):
        _archive("2999-01", tmp_path)
    with pytest.raises(CommandError, match="YYYY-MM"):
        _archive("2026-13", tmp_path)


def test_a_broken_stretch_is_never_archived(tmp_path: Path) -> None:
    _events_at(day(1), day(1), day(2))
    _raw("UPDATE audit_auditevent SET resource_id = %s WHERE seq = 2", ["edited"])
    with pytest.raises(CommandError, match="chain broken at seq 2"):
        _archive("2026-03", tmp_path)
    assert AuditEvent.objects.count() == 3
    assert not AuditArchive.objects.exists()
    assert not list(tmp_path.iterdir())


def test_tampering_with_what_remains_is_still_found(tmp_path: Path) -> None:
    _events_at(day(1), day(2), day(4), day(4), day(4))
    _archive("2026-03", tmp_path)
    _raw("UPDATE audit_auditevent SET resource_id = %s WHERE seq = 4", ["edited"])
    assert "chain broken at seq 4: content does not match its hash" in _verify()


def test_removing_the_first_remaining_event_is_found(tmp_path: Path) -> None:
    _events_at(day(1), day(2), day(4), day(4))
    _archive("2026-03", tmp_path)
    _raw("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    assert "chain broken at seq 3: event missing" in _verify()


def test_a_removed_anchor_is_found(tmp_path: Path) -> None:
    _events_at(day(1), day(2), day(3), day(4))
    _archive("2026-02", tmp_path / "a")
    _archive("2026-03", tmp_path / "b")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditarchive DISABLE TRIGGER ALL")
        cursor.execute("DELETE FROM audit_auditarchive WHERE from_seq = 1")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditarchive ENABLE TRIGGER ALL")
    assert "archive anchors do not continue each other" in _verify()


def _rewrite(path: Path, change: Any) -> None:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    change(lines)
    path.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))


def test_an_edited_archive_file_is_found(tmp_path: Path) -> None:
    _events_at(day(1), day(1), day(1), day(4))
    _archive("2026-03", tmp_path)
    path = _only_file(tmp_path)

    def edit(lines: list[dict[str, Any]]) -> None:
        lines[2]["resource_id"] = "edited"

    _rewrite(path, edit)
    assert "content does not match its hash (seq 2)" in _verify(path)


def test_a_file_with_an_event_left_out_is_found(tmp_path: Path) -> None:
    _events_at(day(1), day(1), day(1), day(4))
    _archive("2026-03", tmp_path)
    path = _only_file(tmp_path)
    _rewrite(path, lambda lines: lines.pop(2))
    assert "seq 3, 2 due" in _verify(path)


def test_a_consistently_rehashed_forgery_does_not_match_its_anchor(tmp_path: Path) -> None:
    _events_at(day(1), day(1), day(4))
    _archive("2026-03", tmp_path)
    path = _only_file(tmp_path)

    def forge(lines: list[dict[str, Any]]) -> None:
        prev = lines[0]["prev_hash"]
        for line in lines[1:]:
            line["resource_id"] = "forged"
            line["prev_hash"] = prev
            line["hash"] = prev = content_hash(line)
        lines[0]["last_hash"] = prev

    _rewrite(path, forge)
    assert "does not match the anchor" in _verify(path)


def test_anchors_are_append_only_in_the_model(tmp_path: Path) -> None:
    _events_at(day(1), day(4))
    _archive("2026-03", tmp_path)
    anchor = AuditArchive.objects.get()
    with pytest.raises(AppendOnlyError):
        anchor.save()
    with pytest.raises(AppendOnlyError):
        anchor.delete()
    with pytest.raises(AppendOnlyError):
        AuditArchive.objects.all().delete()


def _covered_and_uncovered(tmp_path: Path) -> None:
    """seq 1-2 archived; seq 3 covered by an (extra) anchor but still stored; seq 4 not
    covered."""
    _events_at(day(1), day(2), day(4), day(4))
    _archive("2026-03", tmp_path)
    third = AuditEvent.objects.get(seq=3)
    AuditArchive.objects.create(
        archived_at=third.at,
        cutoff=third.at,
        from_seq=3,
        through_seq=3,
        event_count=1,
        prev_hash=third.prev_hash,
        last_hash=third.hash,
        file_name="test",
        file_sha256="0" * 64,
    )


def _run(statements: list[str]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


ARCHIVING = "SELECT set_config('clinic.audit_archiving', 'on', true)"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statements",
    [
        [ARCHIVING, "DELETE FROM audit_auditevent WHERE seq = 4"],  # not covered
        ["DELETE FROM audit_auditevent WHERE seq = 3"],  # covered, not archiving
        ["UPDATE audit_auditevent SET reason = 'x' WHERE seq = 3"],
        [ARCHIVING, "UPDATE audit_auditevent SET reason = 'x' WHERE seq = 3"],
        ["UPDATE audit_auditarchive SET last_hash = 'x'"],
        [ARCHIVING, "DELETE FROM audit_auditarchive"],
    ],
)
def test_postgresql_allows_only_the_archiving_delete(statements: list[str], tmp_path: Path) -> None:
    _covered_and_uncovered(tmp_path)
    with pytest.raises(DatabaseError, match="append-only"):
        _run(statements)
    assert AuditEvent.objects.count() == 2
    assert AuditArchive.objects.count() == 2
    assert not AuditArchive.objects.filter(last_hash="x").exists()


@pytest.mark.postgres
def test_postgresql_lets_an_archiving_transaction_delete_covered_rows(tmp_path: Path) -> None:
    _covered_and_uncovered(tmp_path)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ARCHIVING)
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [4]
