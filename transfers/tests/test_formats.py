"""The CSV reader's shortcuts (no per-cell ``restore`` where no cell can need it) give
the rows the plain per-cell reading gives."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from transfers.formats import FileRejected, neutralise, parse, restore

CELLS = ["Ann", "O'Neil", "'", "''", "'=1+1", "''=x", "=1+1", "-5", "a'b", "", " ", "'@x", "x'"]


def _reference(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Every cell through restore(), blank lines skipped: the reading before the shortcut."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = [c.strip() for c in next(reader)]
    rows = []
    start = reader.line_num + 1
    for record in reader:
        if record and not (len(record) == 1 and not record[0].strip()):
            rows.append((start, {c: restore(v) for c, v in zip(columns, record, strict=True)}))
        start = reader.line_num + 1
    return rows


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(5))
def test_csv_cells_are_restored_exactly_where_they_start_with_an_apostrophe(seed: int) -> None:
    rng = random.Random(seed)
    lines = [["a", "b", "c"]]
    for _ in range(300):
        lines.append([neutralise(rng.choice(CELLS)) if rng.random() < 0.5 else rng.choice(CELLS)
                      for _ in range(3)])  # fmt: skip
    text = _csv(lines)

    parsed = parse(text.encode())

    assert parsed.rows == _reference(text)
    assert {"a": "'=1+1", "b": "O'Neil", "c": "''=x"} in [
        v for _, v in parse(_csv([["a", "b", "c"], ["''=1+1", "O'Neil", "'''=x"]]).encode()).rows
    ]


def test_a_file_without_apostrophes_reads_the_same() -> None:
    text = "a,b\nx,=1\n\n'y,z\n"
    assert parse(text.replace("'", "").encode()).rows == [(2, {"a": "x", "b": "=1"}),
                                                          (4, {"a": "y", "b": "z"})]  # fmt: skip


def test_blank_lines_are_skipped_and_short_rows_rejected() -> None:
    assert parse(b"name\nAnn\n\n  \nBo\n").rows == [(2, {"name": "Ann"}), (5, {"name": "Bo"})]
    assert parse(b"a,b\n1,2\n\n \n3,4\n").rows == [
        (2, {"a": "1", "b": "2"}),
        (5, {"a": "3", "b": "4"}),
    ]
    with pytest.raises(FileRejected) as rejected:
        parse(b"a,b\n1,2\n3\n")
    assert rejected.value.context == {"row": 3}
