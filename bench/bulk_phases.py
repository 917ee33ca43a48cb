"""Where a patient import's time goes, phase by phase, in one thread (PostgreSQL).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_x_phases \\
        python bench/bulk_phases.py [--no-gc]

Runs the steps of ``transfers.importing``'s patient import one after the other on
PATIENTS rows (default 100,000; the file of ``bulk_transfers.py``): parse, the row rules
(fast path, else reference), the set-based checks in batches of 5,000, MRNs/ids/search
documents, the COPY and the commit, and prints wall and CPU seconds of each. The
pipelined import overlaps these with the server's work; here they are apart, so each
one's cost is plain. ``--no-gc`` switches the cyclic garbage collector off for the
whole run, as ``import_patients`` does (``transfers.gcpause``). The database is created
and dropped again.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_transfers_phases"
)

import bulk_transfers as bench  # noqa: E402  (reads BENCH_DATABASE_URL)

PATIENTS = int(os.environ.get("PATIENTS", "100000"))


def timed(label: str, call: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:12s} {wall:5.2f} s wall {cpu:5.2f} s CPU")
    return result


def main() -> None:
    if "--no-gc" in sys.argv:
        gc.disable()
    bench.recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from transfers import importing
    from transfers.formats import parse
    from transfers.importing import ImportOptions

    call_command("migrate", verbosity=0)
    data = bench.patients_csv(PATIENTS)
    try:
        parsed = timed("parse", lambda: parse(data))
        today = timezone.localdate()
        phones: importing.PhoneCache = {}
        email_ok = importing._EmailCheck()

        def rules() -> list[tuple[importing._Row, importing._PatientRow]]:
            items = []
            for number, values in parsed.rows:
                row = importing._Row(number, values)
                item = importing._parse_patient(row, today=today, phones=phones, email_ok=email_ok)
                if item is not None:
                    items.append((row, item))
            return items

        items = timed("row rules", rules)
        firsts: dict[str, dict] = {n: {} for n in ("mrn", "external_id", "id", "email")}

        def checks() -> None:
            for start in range(0, len(items), 5000):
                importing._check_patients(items[start : start + 5000], ImportOptions(), firsts)

        timed("set checks", checks)
        creates = [item for _, item in items]
        timed("identities", lambda: importing._assign_identities(creates, 0))
        now = timezone.now()
        rows = timed("copy rows", lambda: [importing._copy_row(i.patient, now) for i in creates])
        with transaction.atomic():
            timed(
                "COPY",
                lambda: importing._copy(
                    importing.Patient._meta.db_table,
                    importing._PATIENT_COPY_COLUMNS,
                    rows,
                    importing._PATIENT_COPY_TYPES,
                ),
            )
            started = time.perf_counter()
            transaction.on_commit(
                lambda: print(f"{'commit':12s} {time.perf_counter() - started:5.2f} s wall")
            )
    finally:
        connection.close()
        bench.drop_database()


if __name__ == "__main__":
    main()
