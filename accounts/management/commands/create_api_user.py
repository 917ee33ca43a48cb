"""``create_api_user USERNAME --role viewer|provider|admin [--password-stdin]``.

Creates or updates the user in that role and prints a fresh API token as the last line
of stdout (and nothing secret anywhere else).
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import token_issue, user_upsert
from core.permissions import Role

ROLE_CHOICES = ("viewer", "provider", "admin")


class Command(BaseCommand):
    help = "Create or update an API user in a role and print a fresh bearer token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read a password from standard input (first line) and set it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        if not username or len(username) > 150:
            raise CommandError("USERNAME must be 1 to 150 characters.")
        password: str | None = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        role = Role.from_label(options["role"])
        try:
            user = user_upsert(username=username, role=role, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        token, expires_at = token_issue(user=user)
        self.stdout.write(
            f"User {user.username!r} has role {role.label}; token expires {expires_at.isoformat()}."
        )
        self.stdout.write(token)
