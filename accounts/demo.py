"""Demo users, one per role (``seed_demo`` only; never in production)."""

from __future__ import annotations

from datetime import datetime

from accounts.services import user_upsert
from core.permissions import Role

DEMO_USERS = (
    ("viewer", "viewer-demo-pass", Role.VIEWER, "Val", "Viewer"),
    ("provider", "provider-demo-pass", Role.PROVIDER, "Priya", "Provider"),
    ("admin", "admin-demo-pass", Role.ADMIN, "Ada", "Admin"),
)


def seed(*, now: datetime) -> str:
    for username, password, role, first, last in DEMO_USERS:
        user_upsert(
            username=username, role=role, password=password, first_name=first, last_name=last
        )
    return "demo users: " + ", ".join(f"{u}/{p} ({r.label})" for u, p, r, _, _ in DEMO_USERS)
