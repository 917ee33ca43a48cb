from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from transfers.cli import add_export_arguments
from transfers.commands import run_export_command


class Command(BaseCommand):
    help = "Export interactions as CSV, JSON or NDJSON (current entries unless --include-history)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_export_arguments(parser)
        parser.add_argument("--include-history", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        run_export_command(
            self, "interactions", options, include_history=options["include_history"]
        )
