"""``rebuild_name_words``: refill search's dictionary of names from the patients."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from patients import name_words


class Command(BaseCommand):
    help = (
        "Rebuild the dictionary of first and last names that patient search corrects "
        "typos against (patients.name_words), dropping names no patient has any more. "
        "The triggers keep it complete; run this after deleting or renaming many patients, "
        "or to forget an erased patient's name at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        name_words.ensure(connection)
        count = name_words.rebuild(connection)
        self.stdout.write(f"{count} names in the search dictionary.")
