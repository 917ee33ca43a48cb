"""Small, locale-independent date helpers shared by the engine modules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def iso_day(value: object) -> str:
    """``YYYY-MM-DD`` of an ISO datetime in its own offset; the raw text if unparseable."""
    parsed = parse_date(value)
    if parsed is not None:
        return parsed.isoformat()
    return str(value) if value else "unknown date"


def long_day(value: object) -> str:
    """``20 November 2026`` — unambiguous for lay readers, no locale dependency."""
    parsed = parse_date(value)
    if parsed is None:
        return iso_day(value)
    return f"{parsed.day} {MONTHS[parsed.month - 1]} {parsed.year}"


def clock(value: object) -> str:
    """``2026-11-25 10:00 UTC`` (or ``UTC+01:00`` style for other offsets)."""
    parsed = parse_datetime(value)
    if parsed is None:
        return iso_day(value)
    text = parsed.strftime("%Y-%m-%d %H:%M")
    offset = parsed.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0):
        return f"{text} UTC"
    return f"{text} UTC{parsed.strftime('%z')[:3]}:{parsed.strftime('%z')[3:]}"


def age_on(date_of_birth: object, as_of: object) -> int | None:
    born = parse_date(date_of_birth)
    today = parse_date(as_of)
    if born is None or today is None or today < born:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def sort_key(value: object) -> tuple[int, float, str]:
    """Chronological sort key tolerant of missing/odd timestamps (those sort first).

    Naive datetimes are treated as UTC so mixed inputs still compare.
    """
    parsed = parse_datetime(value)
    if parsed is None:
        return (0, 0.0, str(value or ""))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (1, parsed.timestamp(), "")
