#!/usr/bin/env python3
"""Add up the JUnit XML reports of every test runner in a CI run.

Prints one line, exactly ``N passed, N failed`` (with ``, N skipped`` when any were
skipped): the contract of ``.ci/run``'s last line. pytest (each suite), the browser
tests and schemathesis (each role) all write JUnit XML, so one reader counts them all.
A report that cannot be parsed counts as one failure rather than as nothing.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def tally(paths: list[Path]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for path in paths:
        try:
            # Reports written moments ago by this run's own test runners, not untrusted input.
            root = ET.parse(path).getroot()  # noqa: S314  # nosec B314
        except (ET.ParseError, OSError):
            failed += 1
            continue
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in suites:
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            failed += bad
            skipped += skip
            passed += max(tests - bad - skip, 0)
    return passed, failed, skipped


def main(argv: list[str]) -> int:
    paths = sorted(p for arg in argv for p in Path(arg).rglob("*.xml")) if argv else []
    passed, failed, skipped = tally(paths)
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
