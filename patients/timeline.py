"""The patient timeline: one newest-first feed of everything that happened to a patient.

Apps contribute item types without this module knowing them: each registers a *source*
in its ``AppConfig.ready``::

    register_timeline_source("appointment", fetch_appointments)

A source receives the patient and a :class:`TimelineQuery` and returns, with ONE query,
at most ``query.limit`` items strictly older than ``query.before`` (by ``(at, id)``),
inside ``[start, end)``, newest first. :func:`timeline_page` merges the sources and cuts
the page, so a page costs one query per source whatever its size.

Paging uses a cursor, the position ``(at, id)`` of the last item shown, rather than an
offset: an item added while a client pages (a newer interaction, an earlier appointment
booked late) can neither shift later pages nor make an item appear twice.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

if TYPE_CHECKING:
    from patients.models import Patient


@dataclass(frozen=True)
class TimelineItem:
    type: str
    id: uuid.UUID
    at: datetime
    title: str
    data: dict[str, Any]

    @property
    def position(self) -> tuple[datetime, uuid.UUID]:
        return (self.at, self.id)


@dataclass(frozen=True)
class TimelineQuery:
    # Only items strictly older than this (at, id) position; None for the first page.
    before: tuple[datetime, uuid.UUID] | None
    start: datetime | None  # at >= start
    end: datetime | None  # at < end
    limit: int


TimelineSource = Callable[["Patient", TimelineQuery], list[TimelineItem]]

_sources: dict[str, TimelineSource] = {}


def register_timeline_source(type: str, fetch: TimelineSource) -> None:
    """Register (idempotently, by ``type``) a kind of timeline item."""
    _sources[type] = fetch


def timeline_types() -> list[str]:
    return sorted(_sources)


def window(query: TimelineQuery, field: str) -> Q:
    """The ``Q`` a source applies to its timestamp ``field`` (and its ``id``): the date
    range and the cursor position, in newest-first order."""
    condition = Q()
    if query.start is not None:
        condition &= Q(**{f"{field}__gte": query.start})
    if query.end is not None:
        condition &= Q(**{f"{field}__lt": query.end})
    if query.before is not None:
        at, item_id = query.before
        condition &= Q(**{f"{field}__lt": at}) | Q(**{field: at, "id__lt": item_id})
    return condition


class InvalidCursor(ValueError):
    pass


def encode_cursor(item: TimelineItem) -> str:
    raw = f"{item.at.isoformat()}|{item.type}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The ``(at, id)`` position in ``cursor``; :class:`InvalidCursor` if it is not one of
    ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        at_text, _type, id_text = raw.split("|")
        at = parse_datetime(at_text)
        item_id = uuid.UUID(id_text)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor("Invalid cursor.") from None
    if at is None or timezone.is_naive(at):
        raise InvalidCursor("Invalid cursor.")
    try:
        at.astimezone(UTC)  # representable once stored in UTC?
    except OverflowError:
        raise InvalidCursor("Invalid cursor.") from None
    return at, item_id


def timeline_page(
    patient: Patient,
    *,
    types: Iterable[str] | None,
    before: tuple[datetime, uuid.UUID] | None,
    start: datetime | None,
    end: datetime | None,
    page_size: int,
) -> tuple[list[TimelineItem], TimelineItem | None]:
    """One page, newest first, and the item to continue after (None on the last page).

    Each source is asked for ``page_size + 1`` items: one more than fits tells whether
    another page exists without a count query.
    """
    wanted = timeline_types() if types is None else sorted(set(types))
    query = TimelineQuery(before=before, start=start, end=end, limit=page_size + 1)
    streams = [_sources[name](patient, query) for name in wanted]
    merged = list(heapq.merge(*streams, key=lambda item: item.position, reverse=True))
    page = merged[:page_size]
    return page, (page[-1] if len(merged) > page_size else None)
