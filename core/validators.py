"""Validators more than one slice uses. Each raises Django's ``ValidationError`` for the
field it is given, with a ``CoreErrorCode``, so the API reports it field by field."""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import CoreErrorCode

# How far ahead of the server clock a clinical time may be (clients' clocks drift).
CLOCK_SKEW = timedelta(minutes=5)


def validate_not_future(
    value: datetime, *, field: str, message: str, now: datetime | None = None
) -> None:
    """400 ``future`` on ``field`` when ``value`` is later than now plus ``CLOCK_SKEW``."""
    if value > (now or timezone.now()) + CLOCK_SKEW:
        raise ValidationError({field: ValidationError(message, code=CoreErrorCode.FUTURE)})


def normalise_phone(raw: str) -> str:
    """Parse ``raw`` (E.164, or national in ``PHONE_DEFAULT_REGION``) into E.164."""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "Enter a valid phone number.", code=CoreErrorCode.INVALID_PHONE
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Enter a valid phone number.", code=CoreErrorCode.INVALID_PHONE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_phone(value: str | None) -> str | None:
    """A phone field's stored form: ``None`` when blank, else E.164 (400 ``invalid_phone``)."""
    raw = (value or "").strip()
    return normalise_phone(raw) if raw else None
