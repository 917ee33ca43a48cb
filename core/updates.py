"""Typed partial updates for the ``<entity>_update`` services.

A service lists each editable field as a keyword-only argument defaulting to ``UNSET``,
so mypy catches a misspelt or unknown field at the call site, then applies the fields
it was given with ``model_update``::

    def patient_update(*, patient: Patient, email: str | None | Unset = UNSET) -> Patient:
        model_update(instance=patient, data={"email": email})
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Final

from django.db.models import Model


class Unset(enum.Enum):
    """The type of ``UNSET``: "this field was not given" (``None`` may be a value)."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


def given(data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that were given (not ``UNSET``)."""
    return {name: value for name, value in data.items() if value is not UNSET}


def model_update(*, instance: Model, data: Mapping[str, Any]) -> list[str]:
    """Set the given fields of ``data`` on ``instance``; return the names that changed."""
    changed = []
    for name, value in given(data).items():
        if getattr(instance, name) != value:
            changed.append(name)
        setattr(instance, name, value)
    return changed


def update_fields(service: Callable[..., Any]) -> tuple[str, ...]:
    """The fields an update service takes (its keyword-only ``UNSET``-default arguments),
    for forms that offer exactly those (the admin)."""
    return tuple(
        name
        for name, parameter in inspect.signature(service).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is UNSET
    )
