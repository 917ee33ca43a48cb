"""Recompute every patient's maintained ``latest_outcome`` from their interactions.

The interaction services keep it current; run this after writes that bypass them (for
example ``loaddata`` of patients, which resets the column)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from interactions.services import latest_outcome_rebuild


class Command(BaseCommand):
    help = "Recompute every patient's latest_outcome from their current interactions."

    def handle(self, *args: Any, **options: Any) -> None:
        count = latest_outcome_rebuild()
        self.stdout.write(f"latest_outcome recomputed for {count} patients")
