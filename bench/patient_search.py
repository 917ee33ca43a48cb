"""Typo-tolerant patient search on SQLite (the embedded default): how fast at scale?

    python bench/patient_search.py                # 100,000 patients
    PATIENTS=20000 REPEAT=5 python bench/patient_search.py

Builds a throwaway SQLite database in a temporary directory (migrated, never the
project's ``db.sqlite3``), fills it with PATIENTS patients (realistic names from Faker,
MRN and email in the search document exactly as the model writes it), then times what
``GET /api/v1/patients/?search=...`` runs: the count and the first page of 20, ranked.
Queries mix exact names, one-letter typos, transpositions, two-word searches, an MRN, an
email and a word that matches nobody. Prints p50/p95/max per query and overall, in ms.

The target is p95 < 150 ms. Figures depend on the machine (and on what else it runs).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="bench_patient_search_")
os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from faker import Faker  # noqa: E402

from patients.models import Patient  # noqa: E402
from patients.trigram import _sql_word_similarity  # noqa: E402

PATIENTS = int(os.environ.get("PATIENTS", "100000"))
REPEAT = int(os.environ.get("REPEAT", "7"))
PAGE = 20


def fill() -> list[tuple[str, str, str, str]]:
    fake = Faker("en_US")
    Faker.seed(2026)
    now = timezone.now().isoformat()
    rows = []
    people = []
    for n in range(1, PATIENTS + 1):
        first, last = fake.first_name(), fake.last_name()
        mrn = f"MRN-{n:07d}"
        email = f"{first[0]}{last}{n}@example.org".lower() if n % 3 else None
        document = " ".join(p for p in (first, last, mrn, email or "") if p).lower()
        rows.append(
            (
                uuid.uuid4().hex,
                mrn,
                first,
                last,
                "1970-01-01",
                "unknown",
                email,
                None,
                document,
                now,
                now,
            )
        )
        people.append((first, last, mrn, email or ""))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO patients_patient (id, mrn, first_name, last_name, date_of_birth, "
            "gender, email, phone, search_document, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return people


def typo(word: str) -> str:
    """Swap the two middle letters: "Smith" -> "Smiht"-like."""
    if len(word) < 4:
        return word + word[-1]
    i = len(word) // 2
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def queries(people: list[tuple[str, str, str, str]]) -> dict[str, str]:
    first, last, mrn, _ = people[len(people) // 2]
    email = next(p[3] for p in people if p[3])
    return {
        "last name": last,
        "last name, typo": typo(last),
        "first + last": f"{first} {last}",
        "both typos, swapped": f"{typo(last)} {typo(first)}",
        "first name, typo": typo(first),
        "mrn": mrn,
        "email": email,
        "nobody": "qzxwv",
    }


def run(text: str) -> tuple[float, int]:
    # Cold: a real search rarely repeats the last one, so the similarity cache starts empty.
    _sql_word_similarity.cache_clear()
    started = time.perf_counter()
    qs = Patient.objects.search(text)
    count = qs.count()
    list(qs[:PAGE])
    return (time.perf_counter() - started) * 1000, count


def main() -> None:
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if Patient.objects.exists():  # BENCH_DIR given again: reuse what it holds
        stored = Patient.objects.order_by("mrn")
        people = [(p.first_name, p.last_name, p.mrn, p.email or "") for p in stored]
    else:
        people = fill()
    print(f"{len(people)} patients ready in {time.perf_counter() - started:.1f} s ({TMP})")
    print(f"{'query':<22} {'text':<28} {'matches':>8} {'p50':>8} {'p95':>8} {'max':>8}")
    every: list[float] = []
    for label, text in queries(people).items():
        run(text)  # warm-up
        timings = []
        for _ in range(REPEAT):
            elapsed, count = run(text)
            timings.append(elapsed)
        every.extend(timings)
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
        print(
            f"{label:<22} {text[:28]:<28} {count:>8} {statistics.median(timings):>8.1f} "
            f"{p95:>8.1f} {max(timings):>8.1f}"
        )
    overall = statistics.quantiles(every, n=20)[-1]
    print(
        f"overall: p50 {statistics.median(every):.1f} ms, p95 {overall:.1f} ms, "
        f"max {max(every):.1f} ms over {len(every)} searches"
    )


if __name__ == "__main__":
    main()
