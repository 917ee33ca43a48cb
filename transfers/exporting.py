"""Streamed exports of patients and interactions.

Rows are read with ``QuerySet.iterator()`` — a server-side cursor on PostgreSQL — as
plain tuples and encoded chunk by chunk, so memory stays flat whatever the row count and
the response starts before the whole set is read. The columns are the import columns
(plus what the server maintains), so an export re-imports; contact details (email,
phone) are left out unless asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from interactions.models import Interaction
from patients.models import Patient
from transfers.errors import TransferErrorCode as Code
from transfers.formats import FORMATS, FileRejected, write

CHUNK_ROWS = 5000
CONTACT_FIELDS = ("email", "phone")


@dataclass(frozen=True)
class Column:
    name: str
    source: str  # the values_list() path


PATIENT_COLUMNS = (
    Column("id", "id"),
    Column("mrn", "mrn"),
    Column("external_id", "external_id"),
    Column("first_name", "first_name"),
    Column("last_name", "last_name"),
    Column("date_of_birth", "date_of_birth"),
    Column("gender", "gender"),
    Column("email", "email"),
    Column("phone", "phone"),
    Column("latest_outcome", "latest_outcome_id"),
    Column("latest_outcome_at", "latest_outcome_at"),
    Column("created_at", "created_at"),
    Column("updated_at", "updated_at"),
)
INTERACTION_COLUMNS = (
    Column("id", "id"),
    Column("patient_id", "patient_id"),
    Column("mrn", "patient__mrn"),
    Column("external_id", "patient__external_id"),
    Column("outcome", "outcome_id"),
    Column("occurred_at", "occurred_at"),
    Column("notes", "notes"),
    Column("doctor_id", "doctor_id"),
    Column("appointment_id", "appointment_id"),
    Column("status", "status"),
    Column("amends", "amends_id"),
    Column("recorded_by", "recorded_by__username"),
    Column("recorded_at", "recorded_at"),
    Column("retraction_reason", "retraction_reason"),
    Column("retracted_at", "retracted_at"),
)
COLUMNS = {"patients": PATIENT_COLUMNS, "interactions": INTERACTION_COLUMNS}


def select_columns(
    kind: str, *, fields: Sequence[str] | None, include_contact: bool
) -> list[Column]:
    """The export's columns: ``fields`` (in that order) or all; contact details only with
    ``include_contact``. Unknown names are a 400."""
    available = COLUMNS[kind]
    by_name = {c.name: c for c in available}
    if fields:
        unknown = [f for f in fields if f not in by_name]
        if unknown:
            raise FileRejected(
                Code.INVALID_OPTION,
                f"Unknown field(s): {', '.join(unknown)}. Available: {', '.join(by_name)}.",
                option="fields",
            )
        contact = [f for f in fields if f in CONTACT_FIELDS]
        if contact and not include_contact:
            raise FileRejected(
                Code.INVALID_OPTION,
                f"{', '.join(contact)} are contact details: add include_contact=true.",
                option="fields",
            )
        return [by_name[f] for f in dict.fromkeys(fields)]
    return [
        c
        for c in available
        if include_contact or kind != "patients" or c.name not in CONTACT_FIELDS
    ]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise FileRejected(
            Code.INVALID_OPTION, f"format must be one of {', '.join(FORMATS)}.", option="format"
        )
    return fmt


def file_name(kind: str, fmt: str) -> str:
    """A dated name: ``patients-2026-12-02.csv`` (the clinic's calendar day)."""
    return f"{kind}-{timezone.localdate():%Y-%m-%d}.{fmt}"


def stream(
    queryset: QuerySet[Any],
    columns: Sequence[Column],
    fmt: str,
    *,
    on_done: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Encode the queryset's rows, reading them from a server-side cursor.

    ``on_done(rows)`` is called once with the number of rows sent, also when the client
    goes away early (the generator is closed); ``progress(rows)`` every 5,000 rows."""
    sent = 0

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal sent
        for row in queryset.values_list(*(c.source for c in columns)).iterator(
            chunk_size=CHUNK_ROWS
        ):
            sent += 1
            if progress is not None and sent % CHUNK_ROWS == 0:
                progress(sent)
            yield row
        if progress is not None:
            progress(sent)

    try:
        yield from write(fmt, [c.name for c in columns], rows(), chunk_rows=CHUNK_ROWS)
    finally:
        if on_done is not None:
            on_done(sent)


def patients_queryset() -> QuerySet[Patient]:
    return Patient.objects.all()


def interactions_queryset(*, include_history: bool) -> QuerySet[Interaction]:
    queryset = Interaction.objects.order_by("occurred_at", "id")
    return queryset if include_history else queryset.current()
