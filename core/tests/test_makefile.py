"""``make help`` lists every target of the Makefile."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

MAKEFILE = Path(settings.BASE_DIR) / "Makefile"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", MAKEFILE.read_text(), flags=re.M))
    assert {"run", "test", "lint", "security", "check-deploy"} <= targets
    listed = subprocess.run(
        ["make", "-s", "-f", str(MAKEFILE), "help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=MAKEFILE.parent,
    ).stdout
    named = set(re.findall(r"^make ([\w-]+)", listed, flags=re.M))
    assert named == targets
