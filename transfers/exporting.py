"""Streamed exports of patients and interactions.

Rows are read with ``QuerySet.iterator()`` — a server-side cursor on PostgreSQL — as
plain tuples and encoded chunk by chunk, so memory stays flat whatever the row count and
the response starts before the whole set is read. The columns are the import columns
(plus what the server maintains), so an export re-imports; contact details (email,
phone) are left out unless asked for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from interactions.models import Interaction
from patients.models import Patient
from transfers.errors import TransferErrorCode as Code
from transfers.formats import FORMATS, FORMULA_TRIGGERS, FileRejected, write

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

    def rows() -> Iterator[Sequence[str | None]]:
        nonlocal sent
        for batch in _batches(queryset.values_list(*(c.source for c in columns))):
            sent += len(batch)
            if progress is not None:
                progress(sent)
            yield from batch

    def copied() -> Iterator[bytes]:
        nonlocal sent
        for block, count in _copy_csv(queryset.values_list(*(c.source for c in columns))):
            sent += count
            if progress is not None:
                progress(sent)
            yield block

    try:
        if fmt == "csv" and connection.vendor == "postgresql":
            yield from write(fmt, [c.name for c in columns], (), chunk_rows=CHUNK_ROWS)
            yield from copied()
        else:
            yield from write(fmt, [c.name for c in columns], rows(), chunk_rows=CHUNK_ROWS)
    finally:
        if on_done is not None:
            on_done(sent)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _iso(value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _iso(text: str) -> str:
    """PostgreSQL's ``2026-12-02 03:48:34.5+00`` or Python's ``...+00:00`` as
    ISO 8601 with ``T`` and ``Z``, the way the API writes UTC times."""
    text = text.replace(" ", "T", 1)
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    if text.endswith("+00"):
        return text[:-3] + "Z"
    return text


TIMESTAMPTZ_OID = 1184


def _batches(queryset: QuerySet[Any]) -> Iterator[list[Sequence[str | None]]]:
    """The rows as text, in batches of CHUNK_ROWS, from a server-side cursor.

    On PostgreSQL the queryset's SQL runs on a named psycopg cursor inside a read
    transaction (so rows stream as they are fetched rather than being materialised
    first), and the values come back as PostgreSQL's text (uuid, date, timestamptz are
    loaded as text, not built into Python objects and printed again). Elsewhere
    ``iterator()``, converted to the same text.
    """
    if connection.vendor != "postgresql":
        batch: list[Sequence[str | None]] = []
        for row in queryset.iterator(chunk_size=CHUNK_ROWS):
            batch.append([_text(v) for v in row])
            if len(batch) == CHUNK_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    from psycopg.types.string import TextLoader

    sql, params = queryset.query.sql_with_params()
    with transaction.atomic():
        raw = connection.connection
        assert raw is not None
        with raw.cursor(name=f"export_{uuid.uuid4().hex}") as cursor:
            for type_name in ("uuid", "date", "timestamptz"):
                cursor.adapters.register_loader(type_name, TextLoader)
            cursor.itersize = CHUNK_ROWS
            cursor.execute(sql, params)
            stamps: list[int] | None = None
            while rows := cursor.fetchmany(CHUNK_ROWS):
                if stamps is None:
                    stamps = [
                        i
                        for i, column in enumerate(cursor.description or ())
                        if column.type_code == TIMESTAMPTZ_OID
                    ]
                if stamps:
                    fixed: list[Sequence[str | None]] = []
                    for row in rows:
                        values = list(row)
                        for i in stamps:
                            if values[i] is not None:
                                values[i] = _iso(values[i])
                        fixed.append(values)
                    yield fixed
                else:
                    yield rows


TEXT_OIDS = frozenset((25, 1042, 1043))  # text, bpchar, varchar
COPY_BLOCK_BYTES = 1 << 16
_SQL_TRIGGERS = ", ".join(
    {"\t": "E'\\t'", "\r": "E'\\r'"}.get(t, f"'{t}'") for t in FORMULA_TRIGGERS
)


def _neutralised_sql(column: str) -> str:
    """SQL for :func:`transfers.formats.neutralise` of one text column."""
    quote = "''''"  # one apostrophe as an SQL literal
    return (
        f"CASE WHEN left({column}, 1) IN ({_SQL_TRIGGERS}) OR (left({column}, 1) = {quote} "
        f"AND left(ltrim({column}, {quote}), 1) IN ({_SQL_TRIGGERS})) "
        f"THEN {quote} || {column} ELSE {column} END"
    )


def _copy_csv(queryset: QuerySet[Any]) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL: the rows as CSV made by the server (``COPY (query) TO STDOUT``), in
    blocks of about 64 KB with their row counts.

    The server formats every value, so the worker only passes bytes on. The query wraps
    the queryset's SQL so that each cell is what :func:`transfers.formats.write` writes:
    text cells neutralised against formula injection, timestamps as ISO 8601 with ``T``
    and ``Z`` (the connection's time zone is UTC), NULL as an empty cell. COPY streams
    rows as the executor produces them; nothing is materialised.
    """
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic():
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor:
            # The output columns' types, from the plan alone (LIMIT 0 reads no row).
            cursor.execute(f"SELECT * FROM ({sql}) AS export LIMIT 0", params)  # noqa: S608  # nosec B608
            types = [column.type_code for column in cursor.description or ()]
            names = [f"c{i}" for i in range(len(types))]
            cells = []
            for name, oid in zip(names, types, strict=True):
                if oid in TEXT_OIDS:
                    cells.append(_neutralised_sql(name))
                elif oid == TIMESTAMPTZ_OID:
                    cells.append(f"regexp_replace(replace({name}::text, ' ', 'T'), '[+]00$', 'Z')")
                else:
                    cells.append(f"{name}::text")
            # Identifiers are generated above, values stay parameters: no input in the SQL.
            statement = (
                f"COPY (SELECT {', '.join(cells)} FROM ({sql}) AS export({', '.join(names)})) "  # noqa: S608  # nosec B608
                "TO STDOUT WITH (FORMAT csv)"
            )
            parts: list[bytes] = []
            size = rows = 0
            with cursor.copy(statement, params) as copy:
                for data in copy:  # libpq hands over one data row per block
                    parts.append(bytes(data))
                    size += len(data)
                    rows += 1
                    if size >= COPY_BLOCK_BYTES:
                        yield b"".join(parts), rows
                        parts.clear()
                        size = rows = 0
            if parts:
                yield b"".join(parts), rows


def patients_queryset() -> QuerySet[Patient]:
    return Patient.objects.all()


def interactions_queryset(*, include_history: bool) -> QuerySet[Interaction]:
    queryset = Interaction.objects.order_by("occurred_at", "id")
    return queryset if include_history else queryset.current()
