"""Measure the note reader against annotated sets of notes (JSON lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notes.extraction import ENGINE_VERSION, evaluate_dataset, format_report
from notes.extraction.evaluation import DEFAULT_DATASET, HOLDOUT_DATASET


class Command(BaseCommand):
    help = (
        "Print note-type accuracy, per-vital exact-match rates, medication / allergy / "
        "diagnosis precision and recall and per-context-rule error counts. Without a path, the "
        "shipped tuning set and the held-out set (notes the rules were not tuned on) are "
        "reported separately."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            default=None,
            help="A .jsonl file of annotated notes (default: the tuning and held-out sets).",
        )
        parser.add_argument(
            "--failures", action="store_true", help="List every miss, extra and context error."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["path"]:
            targets = [("Dataset", Path(options["path"]))]
        else:
            targets = [
                ("Tuning set (the rules were developed on these)", DEFAULT_DATASET),
                ("Held-out set (never tuned on)", HOLDOUT_DATASET),
            ]
        self.stdout.write(f"Engine version {ENGINE_VERSION}")
        for title, path in targets:
            if not path.is_file():
                raise CommandError(f"No such dataset: {path}")
            try:
                metrics = evaluate_dataset(path)
            except (ValueError, KeyError) as exc:
                raise CommandError(f"{path} is not an annotated notes dataset: {exc}") from exc
            self.stdout.write(f"\n== {title}: {path.name}")
            self.stdout.write(format_report(metrics, failures=options["failures"]))
