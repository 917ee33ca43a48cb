"""``manage.py audit_archive --before YYYY-MM --output DIR``: move the audit events from
before that month into an NDJSON file with their chain hashes, record the anchor and
delete them (see ``audit.archive``). Copy the file to WORM storage afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.archive import ArchiveError, archive_before, month_start


class Command(BaseCommand):
    help = "Archive the audit events before a month to a file, then delete them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before", required=True, help="YYYY-MM: archive events before this month (UTC)."
        )
        parser.add_argument("--output", required=True, help="Directory for the archive file.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = archive_before(month_start(options["before"]), Path(options["output"]))
        except ArchiveError as exc:
            raise CommandError(f"audit archive: {exc}") from exc
        if result.path is None:
            self.stdout.write(f"audit archive: nothing before {options['before']} to archive")
            return
        self.stdout.write(
            f"audit archive: {result.events} events (seq {result.from_seq}-{result.through_seq}) "
            f"written to {result.path} and deleted; anchor hash {result.last_hash}"
        )
