"""Patients import, 100,000 rows: the two-pass path (forced by an enclosing atomic
block, where the pipeline is not used) against the pipelined one, alternating, in one
process and one database (BENCH_DATABASE_URL, default ``clinic_bulk_bench_ab``, created
and dropped again). ROUNDS (default 2) pairs.

    python bench/bulk_pipeline_ab.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bulk_bench_ab"
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulk_transfers as bench  # sets DATABASE_URL and the settings module

ROWS = 100_000
ROUNDS = int(os.environ.get("ROUNDS", "2"))


def main() -> None:
    bench.recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from core.actors import system_actor
    from transfers.importing import ImportOptions, run_import

    call_command("migrate", verbosity=0)
    data = bench.patients_csv(ROWS)
    try:
        for mode in ["two-pass", "pipelined"] * ROUNDS:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE patients_patient CASCADE")
                cursor.execute("UPDATE patients_mrnsequence SET last_value = 0")
            backends = bench.BackendCpu()
            started, cpu = time.perf_counter(), time.process_time()
            options = ImportOptions()
            if mode == "two-pass":
                with transaction.atomic():
                    report = run_import(
                        kind="patients", data=data, options=options, actor=system_actor()
                    )
            else:
                report = run_import(
                    kind="patients", data=data, options=options, actor=system_actor()
                )
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            server = backends.stop()
            assert report.written
            assert report.created == ROWS
            print(
                f"{mode}: {ROWS / wall:,.0f} rows/s ({wall:.2f} s); Python "
                f"{cpu / ROWS * 1e6:.1f} us/row; PostgreSQL {server / ROWS * 1e6:.1f} us/row; "
                f"{bench.load()}",
                flush=True,
            )
    finally:
        connection.close()
        bench.drop_database()


if __name__ == "__main__":
    main()
