"""Where one request's time goes, in-process: CPU ms and queries per request, a cProfile
top-20 per scenario, and with ``--plans`` each statement's ``EXPLAIN (ANALYZE, BUFFERS)``
(one request per scenario) in ``bench/plans/<scenario>.txt``.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_full \\
        python bench/profile_request.py [--requests 300] [--scenarios a,b] [--write]

Serves each scenario's requests through the whole middleware stack with Django's test
client under **production settings** (no HTTP server, so only Django's own cost: the
database round trips are included in wall time but not in CPU time). Reads only, except
the write scenarios (create patient, book, record an interaction), which add rows like
``run.py`` does. With ``--write`` the top-20 tables go to ``bench/profiles/<scenario>.txt``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_small"
)
os.environ.update(
    DATABASE_URL=DB_URL,
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(48),
    DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
    DJANGO_SECURE_SSL_REDIRECT="false",
    LOG_FORMAT="json",
    METRICS_TOKEN=secrets.token_urlsafe(32),
)
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("AUDIT_SPOOL_DIR", tempfile.mkdtemp(prefix="profile-spool-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

Request = tuple[str, str, dict[str, Any] | None]  # method, path, JSON body


def requests_for(rng: Random) -> dict[str, list[Request]]:
    from appointments.models import Appointment
    from doctors.models import Doctor
    from patients.models import Patient

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM patients_patient TABLESAMPLE SYSTEM (1) LIMIT 500")
        ids = [str(row[0]) for row in cur.fetchall()] or [
            str(pk) for pk in Patient.objects.values_list("pk", flat=True)[:500]
        ]
    days = list(
        Appointment.objects.values_list("doctor_id", "start_time").order_by("doctor_id")[:300]
    )
    doctors = [str(pk) for pk in Doctor.objects.filter(is_active=True).values_list("pk", flat=True)]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # Past the dataset's last appointment (a year ahead), inside the booking window: a
    # slot beyond SCHEDULING_MAX_DAYS_AHEAD would be a 400, not a booking.
    ahead = settings.SCHEDULING_MAX_DAYS_AHEAD - 1
    return {
        "patient_by_id": [("GET", f"/api/v1/patients/{i}/", None) for i in ids],
        # run.py's first pages of scenario 2.
        "patient_list": [
            ("GET", f"/api/v1/patients/?page={p}&page_size=20", None) for p in range(1, 6)
        ],
        "appointments_day": [
            ("GET", f"/api/v1/appointments/?date={t.date()}&doctor_id={d}", None) for d, t in days
        ],
        "timeline": [("GET", f"/api/v1/patients/{i}/timeline/", None) for i in ids],
        "create_patient": [
            (
                "POST",
                "/api/v1/patients/",
                {
                    "first_name": f"Prof{n}",
                    "last_name": "Bench",
                    "date_of_birth": f"19{rng.randint(30, 99)}-0{rng.randint(1, 9)}-1{n % 9}",
                    "gender": "female",
                },
            )
            for n in range(500)
        ],
        "book": [
            (
                "POST",
                "/api/v1/appointments/",
                {
                    "patient_id": rng.choice(ids),
                    "doctor_id": rng.choice(doctors),
                    "start_time": (
                        now
                        + timedelta(days=rng.randint(400, ahead), minutes=10 * rng.randint(0, 47))
                    ).isoformat(),
                    "duration_minutes": 20,
                },
            )
            for _ in range(500)
        ],
        "interaction": [
            (
                "POST",
                "/api/v1/interactions/",
                {"patient_id": rng.choice(ids), "outcome": "monitor", "notes": "Seen in clinic."},
            )
            for _ in range(500)
        ],
    }


def token() -> str:
    from accounts.services import token_issue, user_upsert
    from core.permissions import Role

    user = user_upsert(username="bench-provider", role=Role.PROVIDER, password=None)
    return token_issue(user=user)[0]


def send(client: Client, request: Request) -> int:
    method, path, body = request
    if method == "GET":
        return client.get(path).status_code
    return client.post(path, data=json.dumps(body), content_type="application/json").status_code


def measure(client: Client, reqs: list[Request]) -> dict[str, Any]:
    queries = 0

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, ctx)

    cpu, wall, statuses = [], [], {}
    with connection.execute_wrapper(count):
        for request in reqs:
            c0, w0 = time.process_time(), time.perf_counter()
            status = send(client, request)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
    return {
        "cpu_ms": statistics.median(cpu),
        "wall_ms": statistics.median(wall),
        "queries": queries / len(reqs),
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--scenarios",
        default="patient_by_id,patient_list,appointments_day,timeline,create_patient,book,"
        "interaction",
    )
    parser.add_argument("--write", action="store_true", help="write bench/profiles/*.txt")
    parser.add_argument(
        "--plans", action="store_true", help="write bench/plans/<scenario>.txt and stop"
    )
    args = parser.parse_args()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token()}")
    all_requests = requests_for(Random(11))
    print(f"database {connection.settings_dict['NAME']}, {args.requests} requests per scenario")
    if args.plans:
        for key in args.scenarios.split(","):
            plans(client, key, all_requests[key][20])
        return
    for key in args.scenarios.split(","):
        reqs = (all_requests[key] * (args.requests // len(all_requests[key]) + 1))[: args.requests]
        if key in ("create_patient", "book", "interaction"):
            warm, reqs = reqs[:20], reqs[20:]
        else:
            warm = reqs[:20]
        for request in warm:
            send(client, request)
        result = measure(client, reqs[: len(reqs) // 2])
        profiler = cProfile.Profile()
        profiler.enable()
        for request in reqs[len(reqs) // 2 :]:
            send(client, request)
        profiler.disable()
        print(
            f"{key:<17} cpu {result['cpu_ms']:6.2f} ms  wall {result['wall_ms']:6.2f} ms  "
            f"queries {result['queries']:.2f}  statuses {result['statuses']}"
        )
        if args.write:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            text = out.getvalue()
            tottime = io.StringIO()
            pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(20)
            path = ROOT / "bench" / "profiles" / f"{key}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_text(
                f"# {key}: cProfile of {len(reqs) - len(reqs) // 2} requests, in-process, "
                f"production settings, {connection.settings_dict['NAME']}\n"
                f"# median cpu {result['cpu_ms']:.2f} ms, wall {result['wall_ms']:.2f} ms, "
                f"{result['queries']:.2f} queries per request\n"
                f"# regenerate: BENCH_DATABASE_URL=... python bench/profile_request.py --write\n\n"
                f"## top 20 by own time\n{_strip(tottime.getvalue())}\n"
                f"## top 25 by cumulative time\n{_strip(text)}"
            )


def plans(client: Client, key: str, request: Request) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT one request of ``key`` issues (writes
    are listed, not executed twice)."""
    seen: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, ctx)

    with connection.execute_wrapper(record):
        status = send(client, request)
    out = [f"# {key}: {request[0]} {request[1]} -> {status}, {len(seen)} statements\n"]
    for n, (sql, params) in enumerate(seen, 1):
        out.append(f"## statement {n}\n{sql}\n")
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                out.append("\n".join(row[0] for row in cur.fetchall()) + "\n")
    path = ROOT / "bench" / "plans" / f"{key}.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(out))
    print(f"{key}: {len(seen)} statements -> {path.relative_to(ROOT)}")


def _strip(text: str) -> str:
    """Drop the absolute path prefix so the tables read the same on every machine."""
    return text.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")


if __name__ == "__main__":
    main()
