"""Demo users, one per role (``seed_demo`` only).

Outside production settings they get the published passwords below (the README's demo
logins). Under production settings (``seed_demo --allow-production``, which is what
``bootstrap --seed-demo`` runs) a published password would be an open door, so each user
created gets a fresh random password, printed once in the command's output; users that
already exist keep theirs. ``--known-passwords`` forces the published ones (throwaway
stacks such as the CI's schemathesis run only).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import User

from accounts.services import user_upsert
from core.permissions import Role

DEMO_USERS = (
    ("viewer", "viewer-demo-pass", Role.VIEWER, "Val", "Viewer"),
    ("provider", "provider-demo-pass", Role.PROVIDER, "Priya", "Provider"),
    ("admin", "admin-demo-pass", Role.ADMIN, "Ada", "Admin"),
)
KNOWN_PASSWORDS = frozenset(password for _, password, *_ in DEMO_USERS)

# Passwords set during this process, for the seeders that need to act as a demo user
# (the notes seeder signs notes as the demo provider).
_set_this_run: dict[str, str] = {}


def password_for(username: str) -> str | None:
    """The password given to demo user ``username`` by this process's seeding, if any."""
    return _set_this_run.get(username)


def seed(*, now: datetime, known_passwords: bool = True) -> str:
    lines = []
    for username, published, role, first, last in DEMO_USERS:
        if known_passwords:
            password: str | None = published
        elif User.objects.filter(username=username).exists():
            password = None  # keep whatever it has; never print it
        else:
            password = secrets.token_urlsafe(18)
        user_upsert(
            username=username, role=role, password=password, first_name=first, last_name=last
        )
        if password is None:
            lines.append(f"{username} (password unchanged) ({role.label})")
        else:
            _set_this_run[username] = password
            lines.append(f"{username}/{password} ({role.label})")
    note = "" if known_passwords else " -- generated passwords, shown only now"
    return "demo users: " + ", ".join(lines) + note
