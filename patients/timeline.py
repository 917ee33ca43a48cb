"""The patient timeline: one newest-first stream merged from every app's records.

Apps that keep dated patient records (interactions, notes, ...) register a source in
their ``AppConfig.ready``. A source answers one page: at most ``query.limit`` items for
the patient, newest first by ``(at desc, id desc)``, strictly older than
``query.before`` when given, within ``start <= at < end``, in one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patients.models import Patient


@dataclass(frozen=True)
class TimelineItem:
    type: str
    id: uuid.UUID
    at: datetime
    title: str
    data: dict[str, Any]


@dataclass(frozen=True)
class TimelineQuery:
    before: tuple[datetime, uuid.UUID] | None
    start: datetime | None
    end: datetime | None
    limit: int


TimelineSource = Callable[["Patient", TimelineQuery], list[TimelineItem]]

_sources: dict[str, TimelineSource] = {}


def register_timeline_source(
    type: str,
    fetch: Callable[[Patient, TimelineQuery], list[TimelineItem]],
) -> None:
    """Register (idempotently, by ``type``) a source of timeline items."""
    _sources[type] = fetch


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_sources)
