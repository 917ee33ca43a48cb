"""Records that keep a patient from being deleted.

Apps that hold patient data (appointments, interactions, notes, ...) register a counter
here in their ``AppConfig.ready``; ``patient_delete`` asks every one of them and refuses
with a message naming what blocks the delete. The ``PROTECT`` foreign keys remain the
real guard; this registry produces the friendly 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from patients.models import Patient


@dataclass(frozen=True)
class PatientDependent:
    singular: str
    plural: str
    count: Callable[[Patient], int]


_registry: dict[str, PatientDependent] = {}


def register_patient_dependent(
    key: str, *, singular: str, plural: str, count: Callable[[Patient], int]
) -> None:
    """Register (idempotently, by ``key``) a kind of record that blocks patient deletion."""
    _registry[key] = PatientDependent(singular=singular, plural=plural, count=count)


def blocking_dependents(patient: Patient) -> list[tuple[str, int]]:
    """``[(key, count)]`` for every registered kind the patient has at least one of."""
    found = []
    for key, dependent in _registry.items():
        n = dependent.count(patient)
        if n:
            found.append((key, n))
    return found


def describe(found: list[tuple[str, int]]) -> str:
    parts = []
    for key, n in found:
        dep = _registry[key]
        parts.append(f"{n} {dep.singular if n == 1 else dep.plural}")
    return ", ".join(parts)
