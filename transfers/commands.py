"""The bodies of the import_* and export_* management commands (same services as the
API: transfers.importing and transfers.exporting)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.actors import actor_named
from transfers import exporting
from transfers.audit_hook import record_import, record_transfer
from transfers.cli import Progress
from transfers.formats import FileRejected, parse
from transfers.importing import ImportOptions, run_import
from transfers.services import ensure_file_size

MAX_ERRORS_SHOWN = 50


def run_import_command(command: BaseCommand, kind: str, options: dict[str, Any]) -> None:
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"No such file: {path}")
    actor = actor_named(options.get("actor"))
    data = path.read_bytes()
    settings_ = ImportOptions(
        dry_run=options["dry_run"],
        mode=options.get("mode", "create"),
        on_error=options["on_error"],
        ignore_unknown_columns=options["ignore_unknown_columns"],
        keep_mrn=options.get("keep_mrn", False),
    )
    try:
        ensure_file_size(len(data))
        parsed = parse(data)
        progress = Progress(
            total=len(parsed.rows), label=f"Validating {kind}", stream=command.stderr._out
        )
        try:
            report = run_import(
                kind=kind,
                data=parsed,
                options=settings_,
                actor=actor,
                progress=progress.update,
                finish=lambda written: record_import(
                    written, actor=actor, kind=kind, source="command"
                ),
            )
        finally:
            progress.close()
    except FileRejected as exc:
        raise CommandError(f"{exc.code}: {exc.detail}") from None
    # A written import recorded its event inside the write transaction (``finish``).
    if not report.written:
        record_import(report, actor=actor, kind=kind, source="command")
    for error in report.errors[:MAX_ERRORS_SHOWN]:
        command.stderr.write(
            f"row {error['row']}: {error['field']}: {error['code']}: {error['detail']}"
        )
    if len(report.errors) > MAX_ERRORS_SHOWN:
        command.stderr.write(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more problems")
    summary = (
        f"{report.total_rows} rows ({report.format}): {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.skipped} skipped"
    )
    if settings_.dry_run:
        command.stdout.write(f"Dry run, nothing written. Would be: {summary}.")
    elif not report.written:
        raise CommandError(f"{len(report.errors)} problem(s); nothing was imported. {summary}.")
    else:
        command.stdout.write(command.style.SUCCESS(f"Imported {summary}."))


def run_export_command(
    command: BaseCommand, kind: str, options: dict[str, Any], *, include_history: bool = False
) -> None:
    fmt = options["format"]
    fields = [f.strip() for f in options["fields"].split(",")] if options.get("fields") else None
    try:
        columns = exporting.select_columns(
            kind, fields=fields, include_contact=options["include_contact"]
        )
    except FileRejected as exc:
        raise CommandError(exc.detail) from None
    queryset: Any = (
        exporting.patients_queryset()
        if kind == "patients"
        else exporting.interactions_queryset(include_history=include_history)
    )
    target = options.get("output") or exporting.file_name(kind, fmt)
    progress = Progress(
        total=queryset.count(), label=f"Exporting {kind}", stream=command.stderr._out
    )

    actor = actor_named(options.get("actor"))

    def done(rows: int) -> None:
        record_transfer(
            actor=actor,
            action="export",
            resource=kind,
            rows=rows,
            file_format=fmt,
            source="command",
        )

    chunks = exporting.stream(queryset, columns, fmt, on_done=done, progress=progress.update)
    try:
        if target == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            with open(target, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
    finally:
        progress.close()
    if target != "-":
        command.stdout.write(command.style.SUCCESS(f"Wrote {progress.done} {kind} to {target}."))
