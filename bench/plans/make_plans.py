"""Write the query plans of the list and search scenarios to ``bench/plans/*.txt``.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_full \\
        .venv/bin/python bench/plans/make_plans.py

Each file is ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL the API runs for that request
(taken from the ORM, so it is the real statement), run twice, the second kept (warm
cache). Read-only: the statements are SELECTs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_full"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from core.pagination import COUNT_OR_ESTIMATE_SQL  # noqa: E402
from patients.models import Patient  # noqa: E402

OUT = Path(__file__).resolve().parent


def explain(name: str, sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            rows = [row[0] for row in cursor.fetchall()]
    (OUT / f"{name}.txt").write_text(
        f"-- {name}\n{sql}\n-- params: {params}\n\n" + "\n".join(rows) + "\n"
    )
    print(f"{name}: {rows[-1]}")


def main() -> None:
    patients = Patient.objects.select_related("latest_outcome").order_by(
        "last_name", "first_name", "id"
    )
    limit = settings.PAGINATION_EXACT_COUNT_LIMIT
    inner, params = patients.order_by().values("pk")[: limit + 1].query.sql_with_params()
    explain(
        "patient_list_count",
        COUNT_OR_ESTIMATE_SQL.format(inner=inner),
        [limit, *params, limit, "patients_patient"],
    )
    explain("patient_list_page1", *patients[:21].query.sql_with_params())
    deep = patients[199_980:200_001]
    explain("patient_list_offset_page10000_ids", *deep.values_list("pk").query.sql_with_params())
    explain("patient_list_offset_page10000_naive", *deep.query.sql_with_params())
    row = patients.values_list("last_name", "first_name", "id")[199_979]
    from core.pagination import _beyond, keyset

    keys = keyset(patients)
    assert keys is not None
    cursor_page = patients.filter(_beyond(keys, list(row), backwards=False))[:21]
    explain("patient_list_cursor_page10000", *cursor_page.query.sql_with_params())
    search = Patient.objects.select_related("latest_outcome").search("emam kenendy")
    explain("search_page", *search[:21].query.sql_with_params())
    explain(
        "search_count_bounded",
        *search.order_by().values("pk")[: limit + 1].query.sql_with_params(),
    )


if __name__ == "__main__":
    main()
