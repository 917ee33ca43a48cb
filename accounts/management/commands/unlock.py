"""``unlock --username U [--username V] [--ip A]``: clear failed sign-ins (lockout)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.lockout import unlock


class Command(BaseCommand):
    help = (
        "Unlock sign-in for accounts and/or client addresses locked after failed attempts "
        "(token endpoint, admin login, note signing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--username", action="append", default=[], help="Account to unlock (repeatable)."
        )
        parser.add_argument(
            "--ip", action="append", default=[], help="Client address to unlock (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        usernames: list[str] = options["username"]
        addresses: list[str] = options["ip"]
        if not usernames and not addresses:
            raise CommandError("Give at least one --username or --ip.")
        removed = sum(unlock(username=name) for name in usernames)
        removed += sum(unlock(ip_address=address) for address in addresses)
        self.stdout.write(f"unlocked: {removed} failure record(s) removed")
