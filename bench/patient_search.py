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

Two-typo recall (issue 14's search target), on this SQLite file or on an existing
PostgreSQL benchmark database (``bench/dataset.py``; only ``clinic_bench*`` names):

    RECALL=60 python bench/patient_search.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_search \
        RECALL=60 python bench/patient_search.py

RECALL patients are drawn at random (seeded); each is searched for as ``bench/run.py``
searches, one adjacent transposition in the first and in the last name ("Rliey Alsion";
a name under four letters doubles its last letter instead), timed as the API runs it
(the bounded count of ``core.pagination.count_rows`` and the first page of 20). A hit is
a patient with that first and last name among the first five results: namesakes share a
name, and a name is all the query says. Prints hits out of RECALL and p50/p95 in ms.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXISTING = os.environ.get("BENCH_DATABASE_URL", "")
if EXISTING:
    TMP = ""
    if not EXISTING.rsplit("/", 1)[-1].startswith("clinic_bench"):
        sys.exit("BENCH_DATABASE_URL must name a clinic_bench* database")
    os.environ["DATABASE_URL"] = EXISTING
    os.environ.setdefault("DB_POOL", "false")
else:
    TMP = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="bench_patient_search_")
    os.environ["DATABASE_URL"] = f"sqlite:///{TMP}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from faker import Faker  # noqa: E402

from core.pagination import count_rows  # noqa: E402
from patients.models import Patient  # noqa: E402
from patients.trigram import _sql_word_similarity  # noqa: E402

PATIENTS = int(os.environ.get("PATIENTS", "100000"))
REPEAT = int(os.environ.get("REPEAT", "7"))
RECALL = int(os.environ.get("RECALL", "0"))
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


def run_typo(word: str, rng: random.Random) -> str:
    """``bench/run.py``'s typo: swap two neighbouring letters (not the first, never the
    last), or double the last letter of a word under four letters."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def recall(count: int) -> None:
    """Two-typo searches for ``count`` random patients: hits in the top five, latency."""
    rng = random.Random(14)
    total = Patient.objects.count()
    people = []
    for _ in range(count):
        row = Patient.objects.order_by("mrn").values_list("first_name", "last_name")[
            rng.randrange(total)
        ]
        people.append(row)
    # Warm up the connection and its caches (an API worker's connection is persistent):
    # untimed searches of the same shape (the last one drawn, exact and with typos).
    warm_rng = random.Random(0)  # not ``rng``: the timed queries stay the same
    for text in (" ".join(people[-1]), " ".join(run_typo(w.lower(), warm_rng) for w in people[-1])):
        warm = Patient.objects.select_related("latest_outcome").search(text)
        count_rows(warm)
        list(warm[:PAGE])
    hits = 0
    timings = []
    misses = []
    slowest: list[tuple[float, str]] = []
    for first, last in people:
        text = f"{run_typo(first.lower(), rng)} {run_typo(last.lower(), rng)}"
        _sql_word_similarity.cache_clear()
        started = time.perf_counter()
        qs = Patient.objects.select_related("latest_outcome").search(text)
        count_rows(qs)
        page = list(qs[:PAGE])
        timings.append((time.perf_counter() - started) * 1000)
        slowest.append((timings[-1], f"#{len(timings)} {text}"))
        if any((p.first_name, p.last_name) == (first, last) for p in page[:5]):
            hits += 1
        else:
            misses.append(f"{text!r} for {first} {last}")
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    print(
        f"two-typo recall: {hits} of {count} in the top five; "
        f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms"
    )
    for miss in misses[:10]:
        print(f"  missed {miss}")
    print("  slowest: " + ", ".join(f"{t} {ms:.0f} ms" for ms, t in sorted(slowest)[-5:]))


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
    if EXISTING:
        print(f"{Patient.objects.count()} patients in {connection.settings_dict['NAME']}")
        recall(RECALL or 60)
        return
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
    if RECALL:
        recall(RECALL)


if __name__ == "__main__":
    main()
