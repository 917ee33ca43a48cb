"""Re-read notes whose structured data an older engine version produced."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.actors import actor_named
from notes.extraction import ENGINE_VERSION
from notes.reprocess import note_reprocess, notes_older_than, version_key


class Command(BaseCommand):
    help = (
        "Re-read every note (signed ones included: their text never changes, only the data "
        "derived from it) whose structured data came from an engine older than --since, and "
        "record the re-read in the note's structured_data['reprocessed']."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            default=ENGINE_VERSION,
            help="Re-read notes produced by engine versions before this one "
            "(default: the current version, %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the notes that would be re-read."
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="The user recorded in the notes' history (default: the system account).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = options["since"]
        try:
            version_key(since)
        except ValueError as exc:
            raise CommandError(f"--since must look like 2.0, not {since!r}") from exc
        actor = actor_named(options["actor"])
        done = signed = 0
        for note in notes_older_than(since):
            if options["dry_run"]:
                done += 1
                signed += note.is_signed
                continue
            result = note_reprocess(note=note, actor=actor)
            done += 1
            signed += result.signed
        verb = "would be re-read" if options["dry_run"] else "re-read"
        self.stdout.write(
            f"{done} note(s) {verb} with engine {ENGINE_VERSION} ({signed} signed; "
            "their text is unchanged)."
        )
