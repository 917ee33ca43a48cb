"""The role groups hold exactly the console permissions docs/permissions.md lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ALL_ACTIONS, ROLE_MODEL_PERMISSIONS, codenames

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
SYMBOLS = {"view": "view", "add": "add", "change": "change", "delete": "delete"}


def documented() -> dict[str, set[str]]:
    """``{group: {"app.action_model"}}`` read from the doc's "Staff console" table."""
    text = DOC.read_text()
    section = text.split("## Staff console", 1)[1].split("\n## ", 1)[0]
    result: dict[str, set[str]] = {"Viewer": set(), "Provider": set(), "Admin": set()}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"`[a-z_]+\.[a-z_]+`", cells[0]):
            continue
        app_label, model = cells[0].strip("`").split(".")
        for group, cell in zip(("Viewer", "Provider", "Admin"), cells[1:], strict=True):
            actions = [a.strip() for a in cell.split(",") if a.strip() and a.strip() != "—"]
            for action in actions:
                assert action in ALL_ACTIONS, f"unknown action {action!r} in {cells[0]}"
                result[group].add(f"{app_label}.{action}_{model}")
    return result


def test_docs_match_the_role_table() -> None:
    doc = documented()
    for group in ROLE_MODEL_PERMISSIONS:
        assert doc[group] == codenames(group), group


@pytest.mark.django_db
def test_groups_in_the_database_hold_exactly_the_documented_permissions() -> None:
    doc = documented()
    for name in ("Viewer", "Provider", "Admin"):
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=name).permissions.select_related("content_type")
        }
        assert held == doc[name], name
