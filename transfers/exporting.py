"""Streamed exports of patients and interactions.

On PostgreSQL the server formats every row itself — CSV cells, or one JSON object a
line — through ``COPY (query) TO STDOUT``, and the worker passes the bytes on in 64 KB
blocks; on SQLite rows come from ``QuerySet.iterator()`` and are encoded chunk by chunk.
Either way memory stays flat whatever the row count and the response starts before the
whole set is read. The columns are the import columns
(plus what the server maintains), so an export re-imports; contact details (email,
phone) are left out unless asked for.
"""

from __future__ import annotations

import json
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
    Column("latest_outcome", "latest__outcome"),
    Column("latest_outcome_at", "latest__occurred_at"),
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
        names = [c.name for c in columns]
        values = queryset.values_list(*(c.source for c in columns))
        blocks = _copy_csv(values) if fmt == "csv" else _copy_json(values, names, fmt)
        for block, count in blocks:
            sent += count
            if progress is not None:
                progress(sent)
            yield block

    try:
        if connection.vendor == "postgresql":
            if fmt == "csv":
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
    """The rows as text, in batches of CHUNK_ROWS, from ``iterator()`` (SQLite; on
    PostgreSQL the server formats every export, see :func:`_copy_out`)."""
    batch: list[Sequence[str | None]] = []
    for row in queryset.iterator(chunk_size=CHUNK_ROWS):
        batch.append([_text(v) for v in row])
        if len(batch) == CHUNK_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


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


def _copy_out(
    queryset: QuerySet[Any], cells: Callable[[list[tuple[str, int]]], str], options: str
) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL: ``COPY (SELECT <cells> FROM (<queryset>)) TO STDOUT WITH (<options>)``
    in blocks of about 64 KB with their row counts.

    ``cells`` gets the output columns as ``(alias, type oid)`` and returns the select
    list. The server formats every value, so the worker only passes bytes on. COPY
    streams rows as the executor produces them; nothing is materialised."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic():
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor:
            # The output columns' types, from the plan alone (LIMIT 0 reads no row).
            cursor.execute(f"SELECT * FROM ({sql}) AS export LIMIT 0", params)  # noqa: S608  # nosec B608
            types = [column.type_code for column in cursor.description or ()]
            names = [f"c{i}" for i in range(len(types))]
            # Identifiers are generated here, values stay parameters: no input in the SQL.
            statement = (
                f"COPY (SELECT {cells(list(zip(names, types, strict=True)))} "  # noqa: S608  # nosec B608
                f"FROM ({sql}) AS export({', '.join(names)})) TO STDOUT WITH ({options})"
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


def _iso_sql(name: str) -> str:
    """A timestamptz as :func:`_iso` writes it (the connection's time zone is UTC)."""
    return f"regexp_replace(replace({name}::text, ' ', 'T'), '[+]00$', 'Z')"


def _copy_csv(queryset: QuerySet[Any]) -> Iterator[tuple[bytes, int]]:
    """The rows as CSV made by the server: each cell is what
    :func:`transfers.formats.write` writes — text cells neutralised against formula
    injection, timestamps as ISO 8601 with ``T`` and ``Z``, NULL as an empty cell."""

    def cells(columns: list[tuple[str, int]]) -> str:
        out = []
        for name, oid in columns:
            if oid in TEXT_OIDS:
                out.append(_neutralised_sql(name))
            elif oid == TIMESTAMPTZ_OID:
                out.append(_iso_sql(name))
            else:
                out.append(f"{name}::text")
        return ", ".join(out)

    return _copy_out(queryset, cells, "FORMAT csv")


# One JSON text a line, never quoted: to_json escapes every control character, so the
# line holds neither of these two (nor CR or LF), and CSV quotes only a value with one.
_JSON_LINE_OPTIONS = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"


def _copy_json(
    queryset: QuerySet[Any], names: Sequence[str], fmt: str
) -> Iterator[tuple[bytes, int]]:
    """The rows as JSON objects made by the server, byte for byte what
    :func:`transfers.formats.write` makes of the rows' text (``{"id": "…", "mrn": null}``:
    Python's separators, keys in column order, the values as PostgreSQL's text with
    ISO 8601 times, ``to_json``'s escaping, which is ``json.dumps(ensure_ascii=False)``'s).
    NDJSON passes the lines on; JSON joins them into an array."""

    def cells(columns: list[tuple[str, int]]) -> str:
        parts = []
        for key, (name, oid) in zip(names, columns, strict=True):
            if oid == TIMESTAMPTZ_OID:
                value = f"to_json({_iso_sql(name)})"
            elif oid in TEXT_OIDS:
                value = f"to_json({name})"
            else:
                value = f"to_json({name}::text)"
            label = json.dumps(key) + ": "
            parts.append(f"{_sql_text(label)} || coalesce({value}::text, 'null')")
        return "'{' || " + " || ', ' || ".join(parts) + " || '}'"

    blocks = _copy_out(queryset, cells, _JSON_LINE_OPTIONS)
    if fmt == "ndjson":
        yield from blocks
        return
    first = True
    for block, count in blocks:
        # Whole lines, each ending in LF (JSON text holds no raw LF): an array element a line.
        yield (b"[\n" if first else b",\n") + block[:-1].replace(b"\n", b",\n"), count
        first = False
    yield (b"[]\n" if first else b"\n]\n"), 0


def _sql_text(text: str) -> str:
    """An SQL string literal (the column labels: generated, never user input)."""
    return "'" + text.replace("'", "''") + "'"


def patients_queryset() -> QuerySet[Patient]:
    return Patient.objects.all()


def interactions_queryset(*, include_history: bool) -> QuerySet[Interaction]:
    queryset = Interaction.objects.order_by("occurred_at", "id")
    return queryset if include_history else queryset.current()
