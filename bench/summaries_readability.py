"""Reading level of every offline summary of the demo clinic (Flesch-Kincaid grade, textstat).

Run from the repository root: ``.venv/bin/python bench/summaries_readability.py``. It loads the
demo clinic (as of ``summaries.demo_summaries.DEMO_NOW``) into a throwaway SQLite database,
writes every patient's summary for each audience and length, and prints one line per summary:
grade, words and sentences. The target for family and patient summaries is grade 8 or lower.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        import django

        django.setup()
        import textstat
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from summaries.demo_summaries import demo_summaries, seed_demo_clinic

        logging.disable(logging.INFO)  # the demo seeding logs every task
        seed_demo_clinic()
        from notes.demo import demo_patient_id
        from patients.models import Patient

        numbers = tuple(
            n for n in range(1, 41) if Patient.objects.filter(pk=demo_patient_id(n)).exists()
        )
        worst = 0.0
        print(f"{'patient':<11} {'audience':<9} {'length':<9} grade  words  sentences")
        for patient, options, result in demo_summaries(numbers):
            audience, length = options.audience, options.length
            text = result.narrative
            grade = textstat.flesch_kincaid_grade(text)
            if audience != "clinician":
                worst = max(worst, grade)
            print(
                f"{patient.mrn:<11} {audience:<9} {length:<9} {grade:>5.1f}  "
                f"{textstat.lexicon_count(text):>5}  {textstat.sentence_count(text):>9}"
            )
        print(f"highest family/patient grade: {worst:.1f} (target <= 8)")
        return 0 if worst <= 8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
