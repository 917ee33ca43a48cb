"""Times for tests, always relative to the present (no frozen clock)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from appointments.hours import clinic_zone


def future_weekday(days_ahead: int = 7) -> date:
    """A Monday-to-Friday date at least ``days_ahead`` days from today (clinic time)."""
    day = timezone.now().astimezone(clinic_zone()).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at a wall-clock time in the clinic's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())
