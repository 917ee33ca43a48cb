"""``manage.py verify_audit``: walk the audit hash chain and report the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit status 1 at the first break."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problem = verify()
        if problem is not None:
            raise CommandError(f"audit trail: {problem} ({checked} events verified before it)")
        self.stdout.write(f"audit trail intact: {checked} events verified")
