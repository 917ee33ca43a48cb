"""``manage.py audit_drain``: move spooled read events into the audit chain now.

Drains every spool segment no live process is writing: those left by a crashed or
stopped process. Run it at start-up (the entrypoint does) or from cron; live processes
drain their own segments every AUDIT_SPOOL_FLUSH_SECONDS.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.spool import spool


class Command(BaseCommand):
    help = "Move spooled audit events (reads) into the hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        stored = spool.flush()
        self.stdout.write(f"audit spool drained: {stored} events stored")
