"""Archiving the oldest audit events to a file, and checking such a file.

``archive_before(cutoff, directory)`` (``manage.py audit_archive --before YYYY-MM``):

1. picks the longest stretch at the start of the online chain whose events all happened
   before ``cutoff`` (the first day of a month, UTC). Events are chained in the order
   they were stored, and a read waiting in the spool is stored a few seconds after it
   happened, so a late read of the month before may sit behind the first event of the
   cutoff's month: it stays online and goes with the next archive;
2. writes it to an NDJSON file — a header line, then one line per event with every
   hashed field and its hash — re-checking the chain while writing (a broken stretch is
   never archived: that would launder tampering), fsyncs it and reads it back with
   :func:`verify_file`;
3. in one transaction records the anchor (:class:`audit.models.AuditArchive`: range,
   count, first ``prev_hash``, last hash, the file's SHA-256) and deletes the stretch.
   On PostgreSQL the append-only trigger lets that DELETE through only for rows an
   anchor covers, in a transaction that set ``clinic.audit_archiving`` (migration 0004).

``verify_audit`` then starts from the newest anchor; ``verify_audit --archive FILE``
checks a file's own chain and that it is the file an anchor recorded.

A deletion by row, not a dropped partition: the table is not partitioned, so the
embedded default (SQLite) and PostgreSQL share one code path and one schema, and a
month of a small clinic's events deletes in seconds. At tens of millions of events a
month, monthly partitions (docs/security.md) turn step 3 into ``DETACH``/``DROP``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import canonical_content, content_hash, event_hash
from audit.models import GENESIS_HASH, AuditArchive, AuditEvent

FORMAT = "clinic-audit-archive"
VERSION = 1
BATCH = 2000
# Serialises archiving runs on PostgreSQL (an arbitrary, fixed advisory-lock key).
ADVISORY_LOCK = 0x41554454


class ArchiveError(Exception):
    """The archive cannot be made, or a file does not verify."""


@dataclass(frozen=True)
class ArchiveResult:
    path: Path | None
    events: int
    from_seq: int
    through_seq: int
    last_hash: str


@dataclass(frozen=True)
class FileCheck:
    from_seq: int
    through_seq: int
    events: int
    prev_hash: str
    last_hash: str
    sha256: str


def month_start(value: str) -> datetime:
    """``YYYY-MM`` -> the first instant of that month, UTC."""
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError as exc:
        raise ArchiveError(f"--before takes a month as YYYY-MM, not {value!r}") from exc
    return parsed.replace(tzinfo=UTC)


def _start() -> tuple[int, str]:
    """Where the online chain starts: (first seq, its prev_hash)."""
    anchor = AuditArchive.objects.order_by("-through_seq").first()
    if anchor is None:
        return 1, GENESIS_HASH
    return anchor.through_seq + 1, anchor.last_hash


def _last_seq_before(cutoff: datetime, first: int) -> int:
    """The end of the longest stretch from ``first`` whose events are all before
    ``cutoff`` (``first - 1``: nothing to archive)."""
    boundary = (
        AuditEvent.objects.filter(seq__gte=first, at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if boundary is not None:
        return int(boundary) - 1
    newest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return int(newest) if newest is not None else first - 1


def _events(first: int, last: int) -> Iterator[AuditEvent]:
    seq = first - 1
    while seq < last:
        batch = list(AuditEvent.objects.filter(seq__gt=seq, seq__lte=last).order_by("seq")[:BATCH])
        if not batch:
            return
        yield from batch
        seq = batch[-1].seq


def _write(handle: IO[str], header: dict[str, Any], first: int, last: int, prev: str) -> str:
    """Write the header and the events, checking the chain on the way; the last hash."""
    handle.write(json.dumps(header, sort_keys=True) + "\n")
    expected = first
    for event in _events(first, last):
        if event.seq != expected:
            raise ArchiveError(f"chain broken at seq {expected}: event missing; not archived")
        if event.prev_hash != prev or event_hash(event) != event.hash:
            raise ArchiveError(f"chain broken at seq {event.seq}; not archived")
        line = {**canonical_content(event), "hash": event.hash}
        handle.write(json.dumps(line, sort_keys=True, ensure_ascii=True) + "\n")
        prev = event.hash
        expected += 1
    if expected != last + 1:
        raise ArchiveError(f"chain broken at seq {expected}: event missing; not archived")
    return prev


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path) -> FileCheck:
    """Check an archive file's own chain: header, gapless seq from ``from_seq``, each
    event's hash over its content, each ``prev_hash`` the previous hash."""
    try:
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "null")
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ArchiveError(f"{path}: not an audit archive file")
            first, prev = int(header["from_seq"]), str(header["prev_hash"])
            expected, count = first, 0
            for number, text in enumerate(handle, start=2):
                line = json.loads(text)
                if line.get("seq") != expected:
                    raise ArchiveError(f"{path}:{number}: seq {line.get('seq')}, {expected} due")
                if line.get("prev_hash") != prev:
                    raise ArchiveError(
                        f"{path}:{number}: prev_hash does not match (seq {expected})"
                    )
                if content_hash(line) != line.get("hash"):
                    raise ArchiveError(
                        f"{path}:{number}: content does not match its hash (seq {expected})"
                    )
                prev, expected, count = line["hash"], expected + 1, count + 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"{path}: unreadable archive ({exc})") from exc
    if count != header.get("events") or expected - 1 != header.get("through_seq"):
        raise ArchiveError(f"{path}: {count} events, the header announces {header.get('events')}")
    if prev != header.get("last_hash"):
        raise ArchiveError(f"{path}: the last hash is not the one the header announces")
    return FileCheck(first, expected - 1, count, str(header["prev_hash"]), prev, _sha256(path))


def verify_against_anchor(path: Path) -> tuple[FileCheck, AuditArchive]:
    """:func:`verify_file`, then: an anchor recorded exactly this file (range, hashes and
    SHA-256)."""
    check = verify_file(path)
    anchor = AuditArchive.objects.filter(through_seq=check.through_seq).first()
    if anchor is None:
        raise ArchiveError(f"{path}: no archive anchor ends at seq {check.through_seq}")
    if (anchor.from_seq, anchor.prev_hash, anchor.last_hash) != (
        check.from_seq,
        check.prev_hash,
        check.last_hash,
    ):
        raise ArchiveError(f"{path}: does not match the anchor of seq {anchor.from_seq}-")
    if anchor.file_sha256 != check.sha256:
        raise ArchiveError(f"{path}: its SHA-256 is not the one recorded when it was archived")
    return check, anchor


def _delete_archived(through_seq: int) -> None:
    """The sanctioned removal: only rows an anchor covers (checked by the trigger on
    PostgreSQL), in the anchor's transaction."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('clinic.audit_archiving', 'on', true)")
        # The table name is the model's; the bound is a parameter.
        cursor.execute(f"DELETE FROM {table} WHERE seq <= %s", [through_seq])  # noqa: S608  # nosec B608
        if connection.vendor == "postgresql":
            # Off again at once, even if a caller's outer transaction goes on.
            cursor.execute("SELECT set_config('clinic.audit_archiving', 'off', true)")


def archive_before(cutoff: datetime, directory: Path) -> ArchiveResult:
    """Archive the online chain's stretch before ``cutoff`` into ``directory``."""
    if cutoff > timezone.now():
        raise ArchiveError("the cutoff is in the future")
    first, prev = _start()
    last = _last_seq_before(cutoff, first)
    if last < first:
        return ArchiveResult(None, 0, first, last, prev)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-{first:012d}-{last:012d}.ndjson"
    if path.exists():
        raise ArchiveError(f"{path} exists already")
    events = last - first + 1
    head = AuditEvent.objects.get(seq=last)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "cutoff": cutoff.isoformat(),
        "from_seq": first,
        "through_seq": last,
        "events": events,
        "prev_hash": prev,
        "last_hash": head.hash,
    }
    fd, scratch = tempfile.mkstemp(dir=directory, prefix=".audit-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            last_hash = _write(handle, header, first, last, prev)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    try:
        check = verify_file(path)
        if check.last_hash != last_hash:
            raise ArchiveError(f"{path}: read back differently from what was written")
        _record_and_delete(cutoff, path, check)
    except BaseException:
        # Nothing was deleted: the file archives nothing.
        path.unlink(missing_ok=True)
        raise
    return ArchiveResult(path, events, first, last, last_hash)


def _record_and_delete(cutoff: datetime, path: Path, check: FileCheck) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        if _start() != (check.from_seq, check.prev_hash):
            raise ArchiveError("another archiving run moved the chain's start; run it again")
        AuditArchive.objects.create(
            archived_at=timezone.now(),
            cutoff=cutoff,
            from_seq=check.from_seq,
            through_seq=check.through_seq,
            event_count=check.events,
            prev_hash=check.prev_hash,
            last_hash=check.last_hash,
            file_name=path.name,
            file_sha256=check.sha256,
        )
        _delete_archived(check.through_seq)
