"""Which is faster for ``latest_outcome`` on the patient list: a maintained table or an
annotated subquery?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_inter python bench/latest_outcome.py

Works in a throwaway schema of that PostgreSQL database (created, migrated, filled and
dropped again), so it never touches existing tables. Loads PATIENTS patients (default
100,000) with 0-5 interactions each, then times what the patient list runs (the count
and one page of 20, ordered by name), for:

* **table**: ``patients.LatestOutcome`` (one row per patient with a current
  interaction), maintained by the interaction services; the page joins it and the
  outcome, the filter is its indexed column;
* **subquery**: correlated subqueries on the interactions table (code, label, severity,
  occurred_at of the newest current interaction), filtered on the code subquery.

Each figure is the median of REPEAT runs after a warm-up, in milliseconds. The write-side
price of the table (recomputing the row inside every interaction write) is timed too.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["DB_POOL"] = "false"  # the schema is chosen per connection, below

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import OuterRef, QuerySet, Subquery  # noqa: E402

PATIENTS = int(os.environ.get("PATIENTS", "100000"))
REPEAT = int(os.environ.get("REPEAT", "9"))
SCHEMA = f"bench_latest_outcome_{os.getpid()}"
PAGE = 20


def use_schema() -> None:
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["options"] = (options.get("options", "") + f" -c search_path={SCHEMA},public").strip()
    connection.close()


def fill() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO patients_patient (id, mrn, first_name, last_name, date_of_birth,
                gender, search_document, created_at, updated_at)
            SELECT gen_random_uuid(), 'MRN-' || lpad(g::text, 7, '0'),
                (ARRAY['Maria','James','Aiko','Omar','Lena','Pavel','Nia','Tom'])[1 + g %% 8],
                'Name' || (g * 7919 %% %s)::text,
                date '1940-01-01' + (g %% 25000), 'unknown', '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [PATIENTS, PATIENTS],
        )
        # 0-5 interactions per patient over two years; ~70% healthy, 20% monitor,
        # 10% critical; one in twenty retracted.
        cursor.execute(
            """
            INSERT INTO interactions_interaction (id, patient_id, outcome_id, notes,
                occurred_at, recorded_at, status, retraction_reason, retracted_at)
            SELECT gen_random_uuid(), p.id,
                CASE WHEN r < 0.7 THEN 'healthy' WHEN r < 0.9 THEN 'monitor'
                     ELSE 'critical' END,
                '', t, t,
                CASE WHEN s < 0.05 THEN 'entered_in_error' ELSE 'current' END,
                CASE WHEN s < 0.05 THEN 'Wrong patient' ELSE '' END,
                CASE WHEN s < 0.05 THEN t END
            FROM patients_patient p
            CROSS JOIN LATERAL generate_series(1, (abs(hashtext(p.id::text)) % 6)) AS n
            CROSS JOIN LATERAL (SELECT random() AS r, random() AS s,
                now() - random() * interval '730 days' AS t) AS v
            """
        )
        cursor.execute(
            """
            INSERT INTO patients_latestoutcome (patient_id, outcome_id, occurred_at)
            SELECT DISTINCT ON (patient_id) patient_id, outcome_id, occurred_at
            FROM interactions_interaction WHERE status = 'current'
            ORDER BY patient_id, occurred_at DESC, recorded_at DESC, id DESC
            """
        )
        cursor.execute("ANALYZE")


def column_design() -> QuerySet[Any]:
    from patients.models import Patient

    return Patient.objects.select_related("latest__outcome").order_by(
        "last_name", "first_name", "id"
    )


def subquery_design() -> QuerySet[Any]:
    from interactions.models import Interaction
    from patients.models import Patient

    latest = Interaction.objects.current().filter(patient=OuterRef("pk")).newest_first()
    return Patient.objects.annotate(
        lo_code=Subquery(latest.values("outcome_id")[:1]),
        lo_label=Subquery(latest.values("outcome__label")[:1]),
        lo_severity=Subquery(latest.values("outcome__severity")[:1]),
        lo_at=Subquery(latest.values("occurred_at")[:1]),
    ).order_by("last_name", "first_name", "id")


def page(queryset: QuerySet[Any], offset: int) -> Callable[[], None]:
    """What the list view runs: a count, then one page."""

    def run() -> None:
        queryset.count()
        for patient in queryset[offset : offset + PAGE]:
            latest = getattr(patient, "latest_outcome", None)
            if latest is not None:
                _ = (latest.code, latest.label, latest.severity, patient.latest_outcome_at)

    return run


def timed(run: Callable[[], None]) -> float:
    run()
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
    try:
        use_schema()
        print(f"migrating schema {SCHEMA} ...", flush=True)
        call_command("migrate", verbosity=0)
        print(f"loading {PATIENTS:,} patients ...", flush=True)
        fill()
        run_benchmarks()
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def run_benchmarks() -> None:
    from interactions.models import Interaction
    from interactions.services import refresh_latest_outcome
    from patients.models import Patient

    column, subquery = column_design(), subquery_design()
    cases = [
        ("list, page 1", lambda qs: qs, 0),
        ("list, page 1000", lambda qs: qs, 999 * PAGE),
        ("?latest_outcome=critical, page 1", "filter", 0),
    ]
    rows = []
    for name, shape, offset in cases:
        if shape == "filter":
            col_qs = column.filter(latest__outcome="critical")
            sub_qs = subquery.filter(lo_code="critical")
        else:
            col_qs, sub_qs = column, subquery
        rows.append((name, timed(page(col_qs, offset)), timed(page(sub_qs, offset))))
    assert column.filter(latest__outcome="critical").count() == (
        subquery.filter(lo_code="critical").count()
    ), "the two designs disagree"

    patient_ids = list(Patient.objects.values_list("pk", flat=True)[:200])
    started = time.perf_counter()
    with transaction.atomic():  # as in the services: inside the writing transaction
        for pk in patient_ids:
            refresh_latest_outcome(patient_id=pk)
    refresh_ms = (time.perf_counter() - started) * 1000 / len(patient_ids)

    interactions = Interaction.objects.count()
    print()
    print(f"{PATIENTS:,} patients, {interactions:,} interactions; median of {REPEAT} runs, ms")
    print(f"{'query (count + page of 20)':<36}{'table':>10}{'subquery':>10}{'ratio':>8}")
    for name, col_ms, sub_ms in rows:
        print(f"{name:<36}{col_ms:>10.1f}{sub_ms:>10.1f}{sub_ms / col_ms:>7.1f}x")
    print(f"{'table upkeep per interaction write':<36}{refresh_ms:>10.2f}{'-':>10}")


if __name__ == "__main__":
    main()
