"""What the import and export management commands share: options and the progress
display (a tqdm bar with rows/s and ETA on a terminal, plain lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import CommandParser
from tqdm import tqdm


class Progress:
    """Counts rows towards ``total``; call :meth:`update` with the rows done so far."""

    def __init__(self, *, total: int, label: str, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self.bar: Any = None
        if self.stream.isatty():
            self.bar = tqdm(
                total=total, desc=label, unit=" rows", unit_scale=True, file=self.stream
            )

    def update(self, done: int) -> None:
        if done <= self.done:
            return
        if self.bar is not None:
            self.bar.update(done - self.done)
        else:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            self.stream.write(
                f"{self.label}: {done:,}/{self.total:,} rows ({done / elapsed:,.0f} rows/s)\n"
            )
            self.stream.flush()
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def add_import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", help="CSV, JSON or NDJSON file (recognised by content).")
    parser.add_argument("--dry-run", action="store_true", help="Validate; write nothing.")
    parser.add_argument("--mode", choices=["create", "upsert"], default="create")
    parser.add_argument("--on-error", choices=["abort", "skip"], default="abort")
    parser.add_argument("--ignore-unknown-columns", action="store_true")
    parser.add_argument("--keep-mrn", action="store_true", help="Keep the file's MRNs.")
    add_actor_argument(parser, "importer")


def add_export_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", choices=["csv", "json", "ndjson"], default="csv")
    parser.add_argument(
        "--output", "-o", help="File to write (default: the dated name, '-' for stdout)."
    )
    parser.add_argument("--fields", help="Comma-separated columns, in this order.")
    parser.add_argument("--include-contact", action="store_true", help="Include email and phone.")
    add_actor_argument(parser, "exporter")


def add_actor_argument(parser: CommandParser, role: str) -> None:
    parser.add_argument(
        "--actor",
        "--user",
        dest="actor",
        metavar="USERNAME",
        help=f"The user recorded as the {role} (default: the system account).",
    )
