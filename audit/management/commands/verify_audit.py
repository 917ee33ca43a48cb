"""``manage.py verify_audit``: walk the audit hash chain and report the first break.

Online, the chain starts where the newest archive anchor ends. ``--archive FILE...``
checks archive files instead: each file's own chain, and that it is the file its anchor
recorded (range, hashes, SHA-256)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.archive import ArchiveError, verify_against_anchor
from audit.chain import verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit status 1 at the first break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--archive",
            action="extend",
            nargs="+",
            default=[],
            metavar="FILE",
            help="Verify archive files written by audit_archive, in order.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["archive"]:
            for name in options["archive"]:
                try:
                    check, _ = verify_against_anchor(Path(name))
                except ArchiveError as exc:
                    raise CommandError(f"audit archive: {exc}") from exc
                self.stdout.write(
                    f"audit archive intact: {name}: {check.events} events verified "
                    f"(seq {check.from_seq}-{check.through_seq}), matches its anchor"
                )
            return
        checked, problem = verify()
        if problem is not None:
            raise CommandError(f"audit trail: {problem} ({checked} events verified before it)")
        self.stdout.write(f"audit trail intact: {checked} events verified")
