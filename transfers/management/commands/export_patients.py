from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from transfers.cli import add_export_arguments
from transfers.commands import run_export_command


class Command(BaseCommand):
    help = "Export patients as CSV, JSON or NDJSON (contact details only with --include-contact)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_export_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run_export_command(self, "patients", options)
