from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from transfers.cli import add_import_arguments
from transfers.commands import run_import_command


class Command(BaseCommand):
    help = "Import interactions from a CSV, JSON or NDJSON file (same rules as the API)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_import_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run_import_command(self, "interactions", options)
