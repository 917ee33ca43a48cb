"""Measure the note reader against an annotated set of notes (JSON lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notes.extraction import evaluate_dataset, format_report
from notes.extraction.evaluation import DEFAULT_DATASET


class Command(BaseCommand):
    help = (
        "Print note-type accuracy, per-vital exact-match rates, medication precision/recall "
        "and negation errors for an annotated dataset (default: the shipped one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=str(DEFAULT_DATASET),
            help="A .jsonl file of annotated notes (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such dataset: {path}")
        try:
            metrics = evaluate_dataset(path)
        except (ValueError, KeyError) as exc:
            raise CommandError(f"{path} is not an annotated notes dataset: {exc}") from exc
        self.stdout.write(format_report(metrics))
