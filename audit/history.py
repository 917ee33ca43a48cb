"""Field-level change history of a patient's record (django-simple-history).

The history of a patient covers the patient's own demographics, their appointments and
the metadata of their notes (status, type, signing, retraction; never the text, which
the history tables do not store). Each entry says who changed which fields from what to
what, and when.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

IGNORED_FIELDS = {"id", "updated_at", "created_at"}
CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _sources() -> list[tuple[str, Any, str]]:
    from audit.models import PATIENT_MODEL, model_for

    return [
        ("patient", model_for(PATIENT_MODEL).history, "id"),  # type: ignore[attr-defined]
        ("appointment", model_for("appointments.Appointment").history, "patient_id"),  # type: ignore[attr-defined]
        ("note", model_for("notes.Note").history, "patient_id"),  # type: ignore[attr-defined]
    ]


def _tracked_fields(record: models.Model) -> list[str]:
    names = []
    for field in record.instance_type._meta.fields:  # type: ignore[attr-defined]
        if field.name in IGNORED_FIELDS:
            continue
        if hasattr(record, field.attname):
            names.append(field.attname)
    return names


def _actor(record: Any) -> dict[str, Any] | None:
    user = record.history_user
    if user is None:
        return None
    from core.permissions import role_of

    role = role_of(user)
    return {"id": user.pk, "username": user.get_username(), "role": role.label}


def record_changes(record: Any, previous: Any | None) -> list[dict[str, Any]]:
    """What this history record changed compared with the one before it."""
    changes = []
    for name in _tracked_fields(record):
        new = getattr(record, name)
        old = getattr(previous, name) if previous is not None else None
        if record.history_type == "-":
            old, new = new, None
        elif (previous is not None and old == new) or (previous is None and new in (None, "")):
            continue
        changes.append({"field": name.removesuffix("_id"), "old": old, "new": new})
    return changes


def patient_history(patient_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every change to the patient's record, newest first."""
    entries: list[dict[str, Any]] = []
    for resource, manager, field in _sources():
        records = (
            manager.filter(**{field: patient_id})
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        previous: dict[Any, Any] = {}
        for record in records:
            before = previous.get(record.id)
            entries.append(
                {
                    "at": record.history_date,
                    "resource_type": resource,
                    "resource_id": str(record.id),
                    "change": CHANGE_TYPES[record.history_type],
                    "actor": _actor(record),
                    "changes": record_changes(record, before),
                    "_order": record.history_id,
                }
            )
            previous[record.id] = record
    entries.sort(key=lambda e: (e["at"], e["_order"]), reverse=True)
    for entry in entries:
        del entry["_order"]
    return entries
