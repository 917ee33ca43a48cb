"""Appending to the hash chain, and checking it.

Every event's ``hash`` is the SHA-256 of its canonical content, which includes the
previous event's hash (``prev_hash``). Changing any field of a stored event, or removing
one, breaks the chain from that point on.

Serialisation: appending reads the chain head (the newest ``seq`` and ``hash``) and
writes the next event, so two writers must never read the same head.

* **PostgreSQL**: the head is one row of ``audit_auditchainhead``, read with
  ``SELECT ... FOR UPDATE``. The row lock is held until the appending transaction
  commits or rolls back, so concurrent appenders queue on it and each one sees the head
  its predecessor committed. A rolled-back append leaves the head as it was (``seq`` stays
  gapless).
* **SQLite**: every transaction starts with ``BEGIN IMMEDIATE`` (see the database
  settings), which takes the database's single write lock before the head is read; the
  second writer waits at ``BEGIN``. ``FOR UPDATE`` is not needed there (Django omits it).

The lock is held from the event's insert to the end of the change's transaction (a write
is recorded inside the transaction of the change), which is short: the services' write
transactions do a handful of statements.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditArchive, AuditChainHead, AuditEvent

# Statements one append costs: lock the head, insert the event, move the head.
QUERIES_PER_EVENT = 3

# The fields covered by the hash, in a fixed order.
HASHED_FIELDS = (
    "id",
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "returned_ids",
    "row_count",
    "request_id",
    "ip",
    "user_agent",
    "status_code",
    "reason",
    "break_glass",
    "prev_hash",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def canonical_content(event: AuditEvent) -> dict[str, Any]:
    """The hashed fields as JSON values (what an archive file stores per event)."""
    return {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}


def content_hash(payload: dict[str, Any]) -> str:
    """The hash of an event's canonical content (:func:`canonical_content`)."""
    content = {name: payload.get(name) for name in HASHED_FIELDS}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    return content_hash(canonical_content(event))


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the row; a flushed test database may not have it.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def append(**fields: Any) -> AuditEvent:
    """Store one event at the end of the chain, inside the caller's transaction if there
    is one (no savepoint: if the event fails, the caller's transaction fails with it)."""
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        event = AuditEvent(**fields)
        event.seq = head.seq + 1
        # Taken under the lock, so times never run backwards along the chain.
        event.at = timezone.now()
        event.prev_hash = head.hash
        event.hash = event_hash(event)
        event.save()
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def append_many(rows: list[dict[str, Any]]) -> int:
    """Store spooled events (field dicts with their own ``id`` and ``at``) at the end of
    the chain in one transaction; ids already stored are skipped (draining twice is
    harmless). The number stored."""
    if not rows:
        return 0
    with transaction.atomic():
        head = _locked_head()
        ids = [uuid.UUID(str(row["id"])) for row in rows]
        existing = set(AuditEvent.objects.filter(pk__in=ids).values_list("pk", flat=True))
        events = []
        seq, prev = head.seq, head.hash
        for row, event_id in zip(rows, ids, strict=True):
            if event_id in existing:
                continue
            existing.add(event_id)
            event = AuditEvent(**{**row, "id": event_id, "at": _parse_at(row["at"])})
            seq += 1
            event.seq, event.prev_hash = seq, prev
            event.hash = prev = event_hash(event)
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return len(events)


def _parse_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"chain broken at seq {self.seq}: {self.problem}"


def verify(batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in order; the number of events checked and the first break.

    After an archive (``audit.archive``) the online chain starts where the newest anchor
    ends: its first event must be ``through_seq + 1`` and point at the anchor's
    ``last_hash``. The anchors must form a chain of their own."""
    anchor_break = _verify_anchors()
    if anchor_break is not None:
        return 0, anchor_break
    anchor = AuditArchive.objects.order_by("-through_seq").first()
    expected_prev = anchor.last_hash if anchor else GENESIS_HASH
    last_seq = anchor.through_seq if anchor else 0
    expected_seq = last_seq + 1
    checked = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return checked, ChainBreak(
                    expected_seq, f"event missing (next stored event is seq {event.seq})"
                )
            if event.prev_hash != expected_prev:
                return checked, ChainBreak(event.seq, "prev_hash does not match the previous event")
            if event_hash(event) != event.hash:
                return checked, ChainBreak(event.seq, "content does not match its hash (altered)")
            expected_prev = event.hash
            expected_seq += 1
            last_seq = event.seq
            checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last_seq or head.hash != expected_prev):
        return checked, ChainBreak(
            last_seq + 1, f"events after seq {last_seq} missing (the head is at seq {head.seq})"
        )
    return checked, None


def _verify_anchors() -> ChainBreak | None:
    prev, next_seq = GENESIS_HASH, 1
    for anchor in AuditArchive.objects.order_by("through_seq"):
        if anchor.from_seq != next_seq or anchor.prev_hash != prev:
            return ChainBreak(
                anchor.from_seq, "archive anchors do not continue each other (one is missing)"
            )
        if anchor.through_seq - anchor.from_seq + 1 != anchor.event_count:
            return ChainBreak(anchor.from_seq, "an archive anchor's count does not match its range")
        prev, next_seq = anchor.last_hash, anchor.through_seq + 1
    return None
