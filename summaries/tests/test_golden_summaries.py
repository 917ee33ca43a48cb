"""Golden files: the offline summaries of three demo patients, per audience and length.

The text may change only with a reviewed update of the files:
``UPDATE_GOLDEN=1 pytest summaries/tests/test_golden_summaries.py`` rewrites them, and the
diff is reviewed like code. Every summary also has the mechanical properties the reply
validator checks, and the lay ones read at grade 8 or lower (Flesch-Kincaid, textstat).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import textstat

from summaries.demo_summaries import demo_summaries, render, seed_demo_clinic
from summaries.engine.style import reply_problems

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"


def test_demo_summaries_match_the_golden_files() -> None:
    seed_demo_clinic()
    mismatched: list[str] = []
    seen = 0
    for patient, options, result in demo_summaries():
        seen += 1
        path = GOLDEN / f"{patient.mrn}-{options.audience}-{options.length}.txt"
        text = render(result)
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            mismatched.append(path.name)

        reply = {
            "narrative": result.narrative,
            "diagnoses": result.diagnoses,
            "medications": result.medications,
            "allergies": result.allergies,
            "observations": result.observations,
            "plan": result.plan,
        }
        assert reply_problems(reply, options) == [], path.name
        if options.audience != "clinician":
            assert not re.search(r"\ba (?:8|11|18)\d*-year-old", result.narrative), path.name
            assert textstat.flesch_kincaid_grade(result.narrative) <= 8, path.name
    assert seen == 27
    assert mismatched == [], f"summaries differ from the golden files: {mismatched}"
