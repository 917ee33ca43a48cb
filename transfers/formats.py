"""Reading and writing the three file formats: CSV, JSON (an array of objects), NDJSON.

The format of an import file is recognised by its content, never by its name or the
declared content type: after an optional UTF-8 BOM and leading whitespace, ``[`` starts
a JSON array, ``{`` starts NDJSON (one object a line), and anything else that is text
with a header line is CSV, comma- or semicolon-separated (whichever the header uses).

Every parsed row carries the number the user sees in the file: the line on which the
record starts (a CSV header is line 1, so the first data row of a plain file is line 2;
a quoted field spanning lines does not shift later numbers off), the line of an NDJSON
object, the line on which a JSON array element starts.

CSV cells that a spreadsheet would run as a formula (beginning with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are written with a leading apostrophe; the importer
removes exactly that apostrophe again, so an export re-imports unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from transfers.errors import TransferErrorCode
from transfers.gcpause import gc_paused

FORMATS = ("csv", "json", "ndjson")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

# The largest CSV field accepted (interaction notes are at most 20,000 characters).
csv.field_size_limit(1_000_000)


class FileRejected(Exception):
    """The file as a whole cannot be imported (a 400, 413 or 415 answer)."""

    def __init__(self, code: TransferErrorCode, detail: str, status: int = 400, **context: Any):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.context = context


@dataclass
class ParsedFile:
    format: str
    columns: list[str]  # header order (CSV) or first-seen key order (JSON, NDJSON)
    rows: list[tuple[int, dict[str, Any]]]  # (row number in the file, values)


# ----------------------------------------------------------------- formula injection


def neutralise(value: str) -> str:
    """Make a CSV cell inert in spreadsheets; :func:`restore` undoes it exactly."""
    if value and (
        value[0] in FORMULA_TRIGGERS
        or (value[0] == "'" and value.lstrip("'")[:1] in FORMULA_TRIGGERS)
    ):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Reverse :func:`neutralise` (only an apostrophe that it could have added)."""
    if value[:1] == "'" and value.lstrip("'")[:1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


# ------------------------------------------------------------------------ reading


def decode(data: bytes) -> str:
    if b"\x00" in data[:65536]:
        raise FileRejected(
            TransferErrorCode.UNSUPPORTED_FILE_TYPE,
            "The file is not CSV, JSON or NDJSON text (it contains binary data).",
            status=415,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileRejected(
            TransferErrorCode.UNSUPPORTED_FILE_TYPE,
            "The file is not UTF-8 text; save it as UTF-8 CSV, JSON or NDJSON.",
            status=415,
        ) from None
    return text[1:] if text.startswith(BOM) else text


def detect(text: str) -> str:
    head = text.lstrip()[:1]
    if not head:
        raise FileRejected(TransferErrorCode.EMPTY_FILE, "The file is empty.")
    if head == "[":
        return "json"
    if head == "{":
        return "ndjson"
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    if "," in first_line or ";" in first_line or first_line.strip().replace("_", "").isalnum():
        return "csv"
    raise FileRejected(
        TransferErrorCode.UNSUPPORTED_FILE_TYPE,
        "The file is not CSV (with a header row), a JSON array or NDJSON.",
        status=415,
    )


def parse(data: bytes) -> ParsedFile:
    """Decode, recognise and parse an import file into numbered rows (with the cyclic
    garbage collector paused: the rows are many objects and no cycles)."""
    text = decode(data)
    fmt = detect(text)
    with gc_paused():
        if fmt == "csv":
            return _parse_csv(text)
        if fmt == "json":
            return _parse_json(text)
        return _parse_ndjson(text)


def _parse_csv(text: str) -> ParsedFile:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        columns = [c.strip() for c in header]
        rows: list[tuple[int, dict[str, Any]]] = []
        width = len(columns)
        # Only a cell that starts with an apostrophe can need restore(): a file without
        # any skips the per-cell call, and a row is looked at cell by cell only when one
        # of its cells contains an apostrophe somewhere.
        quoted = "'" in text
        start = reader.line_num + 1
        for record in reader:
            if len(record) != width:
                if not record or (len(record) == 1 and not record[0].strip()):
                    start = reader.line_num + 1
                    continue
                raise FileRejected(
                    TransferErrorCode.MALFORMED_FILE,
                    f"Row {start} has {len(record)} cells; the header has {width}.",
                    row=start,
                )
            if width <= 1 and not "".join(record).strip():  # a blank line
                start = reader.line_num + 1
                continue
            if quoted and "'" in "".join(record):
                record = [restore(v) for v in record]
            rows.append((start, dict(zip(columns, record, strict=False))))  # width checked
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected(
            TransferErrorCode.MALFORMED_FILE,
            f"The CSV cannot be read near line {reader.line_num}: {exc}.",
            row=reader.line_num,
        ) from None
    return ParsedFile("csv", columns, rows)


def _columns_of(rows: Iterable[tuple[int, dict[str, Any]]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _object_at(line: int, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FileRejected(
            TransferErrorCode.MALFORMED_FILE,
            f"Line {line}: each entry must be a JSON object.",
            row=line,
        )
    return value


def _parse_json(text: str) -> ParsedFile:
    decoder = json.JSONDecoder()
    rows: list[tuple[int, dict[str, Any]]] = []
    position = text.index("[") + 1
    line = 1 + text.count("\n", 0, position)
    end = len(text)
    expect_value = True
    while True:
        # Skip whitespace and one separating comma, counting lines as we go.
        while position < end and text[position] in " \t\r\n":
            if text[position] == "\n":
                line += 1
            position += 1
        if position >= end:
            raise FileRejected(
                TransferErrorCode.MALFORMED_FILE, "The JSON array is not closed.", row=line
            )
        char = text[position]
        if char == "]" and (expect_value is False or not rows):
            break
        if char == "," and not expect_value:
            expect_value = True
            position += 1
            continue
        if not expect_value:
            raise FileRejected(
                TransferErrorCode.MALFORMED_FILE, f"Line {line}: expected ',' or ']'.", row=line
            )
        try:
            value, stop = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise FileRejected(
                TransferErrorCode.MALFORMED_FILE,
                f"Line {exc.lineno}: invalid JSON ({exc.msg}).",
                row=exc.lineno,
            ) from None
        rows.append((line, _object_at(line, value)))
        line += text.count("\n", position, stop)
        position = stop
        expect_value = False
    if text[position + 1 :].strip():
        raise FileRejected(
            TransferErrorCode.MALFORMED_FILE, "Unexpected data after the JSON array.", row=line
        )
    return ParsedFile("json", _columns_of(rows), rows)


def _parse_ndjson(text: str) -> ParsedFile:
    rows: list[tuple[int, dict[str, Any]]] = []
    loads = json.loads
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = loads(raw)
        except json.JSONDecodeError as exc:
            raise FileRejected(
                TransferErrorCode.MALFORMED_FILE,
                f"Line {number}: invalid JSON ({exc.msg}).",
                row=number,
            ) from None
        rows.append((number, _object_at(number, value)))
    return ParsedFile("ndjson", _columns_of(rows), rows)


# ------------------------------------------------------------------------ writing


class _Buffer:
    """A write target for csv.writer whose content is taken in chunks."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts.clear()
        return out


_NEEDS_CARE = frozenset((*FORMULA_TRIGGERS, "'"))


def write(
    fmt: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str | None]],
    *,
    chunk_rows: int = 2000,
) -> Iterator[bytes]:
    """Encode ``rows`` (text values or None, in ``columns`` order) as ``fmt``, yielding
    chunks of bytes. Memory stays flat: at most ``chunk_rows`` rows are held before a
    chunk is yielded."""
    if fmt == "csv":
        buffer = _Buffer()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        care = _NEEDS_CARE
        for count, row in enumerate(rows, start=1):
            # csv writes None as an empty cell; only cells starting with a trigger (or
            # an apostrophe) need neutralise().
            writer.writerow([neutralise(v) if v and v[0] in care else v for v in row])
            if count % chunk_rows == 0:
                yield buffer.take().encode()
        yield buffer.take().encode()
        return
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    names = list(columns)
    if fmt == "ndjson":
        parts: list[str] = []
        for row in rows:
            parts.append(dumps(dict(zip(names, row, strict=True))))
            parts.append("\n")
            if len(parts) >= 2 * chunk_rows:
                yield "".join(parts).encode()
                parts.clear()
        yield "".join(parts).encode()
        return
    parts = ["["]
    first = True
    for row in rows:
        parts.append("\n" if first else ",\n")
        first = False
        parts.append(dumps(dict(zip(names, row, strict=True))))
        if len(parts) >= 2 * chunk_rows:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("\n]\n" if not first else "]\n")
    yield "".join(parts).encode()
