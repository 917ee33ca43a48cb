"""Every variable the settings read from the environment is documented in .env.example
and in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# env("NAME", ...), env.bool("NAME", ...), env.db("NAME"), _required("NAME"), ...
READ = re.compile(r"""(?:\benv(?:\.\w+)?|_required)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        names.update(READ.findall(path.read_text()))
    return names


def _documented(path: Path) -> set[str]:
    text = path.read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_settings_read_a_reasonable_number_of_variables() -> None:
    names = _settings_variables()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CLINIC_TIME_ZONE"} <= names


def test_every_setting_is_in_env_example() -> None:
    missing = _settings_variables() - _documented(ROOT / ".env.example")
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _settings_variables() if f"`{name}`" not in readme}
    assert not missing, f"add to the README's configuration table: {sorted(missing)}"
