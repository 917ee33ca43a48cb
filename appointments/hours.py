"""Clinic opening hours and the grid of bookable start times.

``CLINIC_OPENING_HOURS`` holds rules separated by ``;``. A rule is days, a space, and
one or more ``HH:MM-HH:MM`` intervals separated by commas. Days are three-letter
English abbreviations (``mon`` ... ``sun``), as a range (``mon-fri``) or a comma list
(``mon,wed,fri``). Times are wall-clock times in ``CLINIC_TIME_ZONE``. Example::

    mon-fri 08:00-12:00,13:00-18:00; sat 09:00-13:00

A later rule for the same day adds intervals. Days without a rule are closed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

OpeningHours = dict[int, list[tuple[time, time]]]


def _day_index(name: str, spec: str) -> int:
    try:
        return DAY_NAMES.index(name.strip().lower())
    except ValueError:
        raise ImproperlyConfigured(
            f"CLINIC_OPENING_HOURS: unknown day {name!r} in {spec!r}"
        ) from None


def _parse_days(text: str, spec: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (_day_index(p, spec) for p in part.split("-", 1))
            if last < first:
                raise ImproperlyConfigured(f"CLINIC_OPENING_HOURS: backwards day range in {spec!r}")
            days.extend(range(first, last + 1))
        else:
            days.append(_day_index(part, spec))
    return days


def _parse_interval(text: str, spec: str) -> tuple[time, time]:
    match = _INTERVAL.match(text.strip())
    if not match:
        raise ImproperlyConfigured(f"CLINIC_OPENING_HOURS: expected HH:MM-HH:MM, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ImproperlyConfigured(f"CLINIC_OPENING_HOURS: invalid time in {text!r}") from None
    if closes <= opens:
        raise ImproperlyConfigured(f"CLINIC_OPENING_HOURS: {text!r} closes before it opens")
    return opens, closes


def parse_opening_hours(spec: str) -> OpeningHours:
    """``{weekday (0 = Monday): [(opens, closes), ...]}``; raises ImproperlyConfigured."""
    hours: OpeningHours = {}
    for rule in filter(None, (r.strip() for r in spec.split(";"))):
        try:
            days_text, intervals_text = rule.split(None, 1)
        except ValueError:
            raise ImproperlyConfigured(
                f"CLINIC_OPENING_HOURS: expected '<days> <hours>' in {rule!r}"
            ) from None
        intervals = [_parse_interval(i, rule) for i in intervals_text.split(",")]
        for day in _parse_days(days_text, rule):
            hours.setdefault(day, []).extend(intervals)
    for intervals in hours.values():
        intervals.sort()
    return hours


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The clinic's calendar day as ``[start, next day's start)`` aware datetimes.

    Raises OverflowError for the last representable day.
    """
    zone = clinic_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def grid_starts(day: date, duration_minutes: int) -> list[datetime]:
    """Every start time on ``day`` on the slot grid whose whole appointment fits inside
    an opening interval (ignoring bookings and the present)."""
    zone = clinic_zone()
    step = timedelta(minutes=settings.SCHEDULING_SLOT_MINUTES)
    length = timedelta(minutes=duration_minutes)
    starts: list[datetime] = []
    for opens, closes in parse_opening_hours(settings.CLINIC_OPENING_HOURS).get(day.weekday(), []):
        start = datetime.combine(day, opens, tzinfo=zone)
        end = datetime.combine(day, closes, tzinfo=zone)
        while start + length <= end:
            starts.append(start)
            start += step
    return starts
