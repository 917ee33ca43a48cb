"""Bulk import and export throughput on PostgreSQL.

    python bench/bulk_transfers.py                      # the full profile (issue 15 targets)
    PATIENTS=20000 INTERACTIONS=20000 EXPORT_PATIENTS=100000 python bench/bulk_transfers.py

Works in its own database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/clinic_transfers_bench``), created, migrated and
dropped again (``KEEP=1`` keeps it). Measures, end to end:

* **patients import**: PATIENTS valid rows in create mode from a CSV file in memory —
  parse, validate (the model's rules, set-based duplicate checks), MRNs, COPY, commit —
  through ``transfers.importing.run_import``, the code the API and the job run;
* **interactions import**: INTERACTIONS rows naming their patients by MRN, with the
  patients' ``latest_outcome`` recomputed;
* **patients export**: the table filled to EXPORT_PATIENTS rows, then
  ``GET /api/v1/patients/export/?format=EXPORT_FORMAT`` (default ``csv``) streamed from
  a gunicorn worker on 127.0.0.1:PORT (default 9850) and read to the end by this
  process; the worker's peak RSS (VmHWM) is read from /proc when the download ends.

``DROP_INDEXES`` (comma-separated index names) drops those indexes right after the
migrations, to measure what an index costs before a migration drops it (e.g.
``patients_patient_mrn_44c0c6a8_like``).

``EXPORT_DATABASE_URL`` runs the export against another, already filled database instead
(read only: nothing is written to it), e.g. the benchmark's ``clinic_bench_full``.
``PROFILE=DIR`` runs each import under cProfile and writes its top-20 tables (by own
time and by cumulative time) to ``DIR/bulk_<kind>_import.txt``; the figures of a
profiled run are not the ones to report. Every figure is printed with the load average
at its end and the CPU time per row (of this process for imports, all its threads, and of
the PostgreSQL backends serving its database — the patient import writes from a thread
with a connection of its own; of the serving worker for the export), since wall time
alone means little on a shared machine.

Targets (2-core machine): patients import >= 20,000 rows/s, interactions import
>= 10,000 rows/s, export >= 50,000 rows/s with peak RSS < 200 MB. The machine may be
shared: run once, say so with the figures.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATIENTS = int(os.environ.get("PATIENTS", "100000"))
INTERACTIONS = int(os.environ.get("INTERACTIONS", "100000"))
EXPORT_PATIENTS = int(os.environ.get("EXPORT_PATIENTS", "1000000"))
PORT = int(os.environ.get("PORT", "9850"))
EXPORT_FORMAT = os.environ.get("EXPORT_FORMAT", "csv")
URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_transfers_bench"
)
DB_NAME = URL.rsplit("/", 1)[-1]
EXPORT_URL = os.environ.get("EXPORT_DATABASE_URL", "")
PROFILE = os.environ.get("PROFILE", "")
DROP_INDEXES = [name for name in os.environ.get("DROP_INDEXES", "").split(",") if name]
ADMIN_DSN = URL.rsplit("/", 1)[0] + "/postgres"

os.environ["DATABASE_URL"] = URL
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ.pop("REDIS_URL", None)

FIRST = ["Maria", "James", "Aiko", "Omar", "Lena", "Pavel", "Nia", "Tom", "Ines", "Kwame"]
LAST = ["Garcia", "Smith", "Tanaka", "Haddad", "Berg", "Novak", "Okafor", "Lee", "Costa"]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        c.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_DSN.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def patients_csv(count: int) -> bytes:
    rng = random.Random(15)
    lines = ["external_id,first_name,last_name,date_of_birth,gender,email,phone"]
    genders = ["female", "male", "other", "unknown"]
    for n in range(count):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(27000))
        phone = f"+1415555{n % 10000:04d}" if n % 2 else ""
        first, last = rng.choice(FIRST), rng.choice(LAST)
        lines.append(
            f"SRC-{n},{first},{last}{n % 997},{born},{rng.choice(genders)},"
            f"{first.lower()}.{n}@example.org,{phone}"
        )
    return ("\n".join(lines) + "\n").encode()


def interactions_csv(count: int, mrns: list[str]) -> bytes:
    rng = random.Random(16)
    lines = ["mrn,outcome,occurred_at,notes"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    outcomes = ["healthy"] * 7 + ["monitor"] * 2 + ["critical"]
    for _ in range(count):
        at = start + timedelta(minutes=rng.randrange(800_000))
        lines.append(f"{rng.choice(mrns)},{rng.choice(outcomes)},{at.isoformat()},Follow-up visit")
    return ("\n".join(lines) + "\n").encode()


def fill_patients_to(total: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM patients_patient")
        have = cursor.fetchone()[0]
        if have >= total:
            return
        cursor.execute(
            """
            INSERT INTO patients_patient (id, mrn, first_name, last_name, date_of_birth,
                gender, email, phone, search_document, created_at, updated_at)
            SELECT gen_random_uuid(), 'BULK-' || lpad(g::text, 8, '0'),
                (ARRAY['Maria','James','Aiko','Omar','Lena','Pavel','Nia','Tom'])[1 + g %% 8],
                'Name' || (g::bigint * 7919 %% 100000)::text,
                date '1940-01-01' + (g %% 25000), 'unknown',
                'bulk' || g || '@example.org', '+14155552671', '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [total - have],
        )
        cursor.execute("ANALYZE patients_patient")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def profiled(name: str, call: Callable[[], T]) -> T:
    """``call()``, under cProfile when PROFILE is set (tables written to PROFILE/)."""
    if not PROFILE:
        return call()
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(call)
    out = io.StringIO()
    for order in ("tottime", "cumulative"):
        out.write(f"== top 20 by {order} ==\n")
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(20)
    target = Path(PROFILE) / f"bulk_{name}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(out.getvalue())
    print(f"  profile written to {target}")
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU time of every PostgreSQL backend serving DB_NAME while it runs: the import's
    own connection and any other it opens (the patient import's writer thread).

    Backends are found from their process titles (``postgres: user DB host(port) ...``)
    and sampled every 20 ms from a thread, so a backend that starts and ends meanwhile
    is counted up to its last sample. Each process's title is read until it says what
    the process is (a backend's database never changes; only a just-forked one still
    has the postmaster's command line): the sampler runs in the measured process, and
    reading every process's title 50 times a second cost ~9 % of a core there (counted
    as the import's CPU, and taking the GIL from it)."""

    def __init__(self) -> None:
        self._ours: set[str] = set()
        self._others: set[str] = set()
        self._start = self._scan()
        self._last = dict(self._start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _scan(self) -> dict[int, float]:
        found = {}
        for name in os.listdir("/proc"):
            if not name.isdigit() or name in self._others:
                continue
            try:
                if name not in self._ours:
                    with open(f"/proc/{name}/cmdline", "rb") as f:
                        title = f.read().replace(b"\0", b" ").decode()
                    if title.startswith("postgres: ") and f" {DB_NAME} " in title:
                        self._ours.add(name)
                    elif "postgres" not in title or title.startswith("postgres: "):
                        self._others.add(name)
                        continue
                    else:
                        continue  # just forked: its title is not set yet
                found[int(name)] = cpu_seconds(int(name))
            except (OSError, ValueError, IndexError):
                continue
        return found

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._last.update(self._scan())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._last.update(self._scan())
        return sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())


def worker_pid(master: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                return int(entry.name)
    raise RuntimeError("no gunicorn worker found")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_export(token: str, url: str) -> tuple[float, int, float, float]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "1",
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                threading.Event().wait(0.2)
        pid = worker_pid(server.pid)
        cpu_before = cpu_seconds(pid)
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/patients/export/?format={EXPORT_FORMAT}"
            "&include_contact=true",
            headers={"Authorization": f"Bearer {token}"},
        )
        started = time.perf_counter()
        lines = 0
        first_byte = None
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310
            while chunk := response.read(1 << 16):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
        rss = peak_rss_mb(pid)
        cpu = cpu_seconds(pid) - cpu_before
        print(f"  first byte after {first_byte:.2f} s")
        # Lines that are not rows: the CSV header; a JSON array's brackets.
        framing = {"csv": 1, "json": 2}.get(EXPORT_FORMAT, 0)
        return elapsed, lines - framing, rss, cpu
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import token_issue, user_upsert
    from core.permissions import Role
    from transfers.importing import ImportOptions, run_import

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        for index in DROP_INDEXES:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(index)}")
            print(f"  dropped index {index}")
    admin = user_upsert(username="bench-admin", role=Role.ADMIN, password="bench-pass-1234")  # noqa: S106

    def timed_import(kind: str, data: bytes, rows: int) -> None:
        connection.ensure_connection()
        backends = BackendCpu()
        started, cpu = time.perf_counter(), time.process_time()
        report = profiled(
            f"{kind}_import",
            lambda: run_import(kind=kind, data=data, options=ImportOptions(), actor=admin),
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        backend_cpu = backends.stop()
        assert report.written, report.errors[:3]
        assert report.created == rows
        print(
            f"{kind} import: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s "
            f"({len(data) / 1e6:.1f} MB CSV); CPU {cpu:.2f} s here "
            f"({cpu / rows * 1e6:.1f} us/row) + {backend_cpu:.2f} s in PostgreSQL backends "
            f"({backend_cpu / rows * 1e6:.1f} us/row); {load()}"
        )

    try:
        timed_import("patients", patients_csv(PATIENTS), PATIENTS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT mrn FROM patients_patient")
            mrns = [row[0] for row in cursor.fetchall()]
        timed_import("interactions", interactions_csv(INTERACTIONS, mrns), INTERACTIONS)

        if EXPORT_PATIENTS:
            export_url = EXPORT_URL or URL
            if not EXPORT_URL:
                fill_patients_to(EXPORT_PATIENTS)
            token, _ = token_issue(user=admin)
            connection.close()
            elapsed, rows, rss, cpu = bench_export(token, export_url)
            print(
                f"patients export ({EXPORT_FORMAT}): {rows:,} rows in {elapsed:.2f} s = "
                f"{rows / elapsed:,.0f} rows/s; serving worker CPU {cpu:.2f} s "
                f"({cpu / rows * 1e6:.1f} us/row), "
                f"peak RSS {rss:.0f} MB; {load()}"
            )
    finally:
        connection.close()
        if os.environ.get("KEEP") != "1":
            drop_database()


if __name__ == "__main__":
    main()
