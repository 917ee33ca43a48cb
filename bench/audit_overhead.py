"""What the audit trail costs on the patient list and the patient detail.

    python bench/audit_overhead.py                                   # SQLite (temp file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_audit python bench/audit_overhead.py

Builds a throwaway database (a temporary SQLite file, or ``<NAME>_bench`` on
PostgreSQL, dropped at the end) with PATIENTS patients (default 2,000), then serves
``GET /api/v1/patients/`` (one page of 20) and ``GET /api/v1/patients/{id}/`` in-process
through the whole middleware stack with a Viewer's bearer token, in two modes:

* **plain**: the same code with the recording step switched off (bench only: there is no
  setting that disables the trail);
* **sync** (``AUDIT_READ_MODE=sync``): each read appends its hash-chained event before
  the response (one write transaction per read);
* **spool** (the default, ``AUDIT_READ_MODE=spool``): each read's event is written to the
  crash-safe spool before the response, and a flusher thread moves them into the chain
  every second (its work is included in the timings: it runs in the same process).

The CPU is shared with other work, so the modes are interleaved (order rotated) for ROUNDS rounds
of REQUESTS requests each; the overhead is computed per round (audited / plain - 1) and
reported as the median with the min..max across rounds as the noise band. At the end
the chain is verified. Times are
medians of each pass's request times, in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["DB_POOL"] = "false"
_tmp = tempfile.mkdtemp(prefix="audit-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

PATIENTS = int(os.environ.get("PATIENTS", "2000"))
ROUNDS = int(os.environ.get("ROUNDS", "8"))
REQUESTS = int(os.environ.get("REQUESTS", "40"))


def setup() -> tuple[Client, list[str]]:
    from accounts.services import token_issue, user_upsert
    from core.actors import system_actor
    from core.permissions import Role
    from patients.models import Patient
    from patients.services import patient_create

    actor = system_actor()
    for i in range(PATIENTS):
        patient_create(
            actor=actor,
            first_name=f"Bench{i % 97}",
            last_name=f"Patient{i:05d}",
            date_of_birth=__import__("datetime").date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
        )
    user = user_upsert(username="bench-viewer", role=Role.VIEWER, password="bench-pass-123")  # noqa: S106
    token, _ = token_issue(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    ids = [str(pk) for pk in Patient.objects.values_list("pk", flat=True)[:REQUESTS]]
    return client, ids


def timed(client: Client, urls: list[str]) -> float:
    """The median request time of one pass, in ms (the median shrugs off the spikes a
    shared CPU adds)."""
    times = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


MODES = ("plain", "sync", "spool")


def set_mode(mode: str) -> None:
    from audit.views import Audited

    if mode == "plain":
        Audited._audit_after = lambda self, request, response: None  # type: ignore[method-assign,assignment,misc]
    else:
        Audited._audit_after = ORIGINAL  # type: ignore[method-assign]
        settings.AUDIT_READ_MODE = mode


def main() -> None:
    from audit.chain import verify
    from audit.spool import spool

    settings.AUDIT_SPOOL_DIR = f"{_tmp}/spool"
    settings.AUDIT_SPOOL_FLUSH_SECONDS = 1.0
    old_name = connection.settings_dict["NAME"]
    test_name = f"{old_name}_bench" if connection.vendor == "postgresql" else f"{_tmp}/bench.db"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = test_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        client, ids = setup()
        workloads = {
            "list": ["/api/v1/patients/"] * REQUESTS,
            "detail": [f"/api/v1/patients/{pk}/" for pk in ids],
        }
        for urls in workloads.values():  # warm-up
            timed(client, urls[:5])
        results: dict[str, dict[str, list[float]]] = {
            name: {mode: [] for mode in MODES} for name in workloads
        }
        for r in range(ROUNDS):
            # Rotate the order each round, so no mode always runs first or last.
            order = MODES[r % 3 :] + MODES[: r % 3]
            order = order if r % 2 == 0 else order[::-1]
            for name, urls in workloads.items():
                for mode in order:
                    set_mode(mode)
                    results[name][mode].append(timed(client, urls))
        set_mode("sync")
        spool.flush()
        print(f"{connection.vendor}, {PATIENTS} patients, {ROUNDS} rounds x {REQUESTS} requests")
        checked, problem = verify()
        print(f"events in the chain: {checked}, chain intact: {problem is None}")
        for name, modes in results.items():
            plain = modes["plain"]
            line = f"{name:7s} plain {statistics.median(plain):6.2f} ms"
            for mode in ("sync", "spool"):
                ratios = [a / p - 1 for a, p in zip(modes[mode], plain, strict=True)]
                line += (
                    f" | {mode} {statistics.median(modes[mode]):6.2f} ms "
                    f"{statistics.median(ratios):+6.1%} "
                    f"(rounds {min(ratios):+.0%}..{max(ratios):+.0%})"
                )
            print(line)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


from audit.views import Audited as _Audited  # noqa: E402

ORIGINAL: Any = _Audited._audit_after

if __name__ == "__main__":
    main()
