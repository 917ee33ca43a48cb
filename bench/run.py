"""The API benchmark: every scenario against the API and, where it has one, the reference.

    make bench                                      # full profile, 3 passes (long)
    python bench/run.py --profile small             # 10,000 patients, quicker
    python bench/run.py --profile smoke --duration 2 --passes 1   # what CI runs

Steps: make (or reuse) the dataset of ``bench/dataset.py`` in ``BENCH_DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/clinic_bench_<profile>``), issue a Provider
token, sample request files (random patient ids, name searches with two typos, free and
taken booking slots, …), start the API under production settings with the container's
own gunicorn command line (``docker/entrypoint.sh serve``: gthread workers, as many
connections per worker as threads; ``--workers 2 --worker-threads 2`` unless told
otherwise) and the reference server (``bench/reference_server.py``, the same command line
and process count), then for each
pass and scenario, interleaved API / reference:

1. **saturation**: wrk, ``--threads`` threads and ``--connections`` connections for
   ``--duration`` seconds, as fast as the server answers: requests/s;
2. **latency at a moderate rate**: the same connections paced (wrk's ``delay()``) to
   50 % of the saturation rate just measured: p50/p95/p99.

wrk is Debian's ``wrk`` 4.1: it keeps every connection busy and records latency per
request in an HDR histogram. Being closed-loop it under-reports tail latency once a server
saturates (coordinated omission), which is why the percentiles are taken at half of
saturation, where queues stay short; the saturation run only supplies requests/s.

Statuses are counted per scenario: 2xx, the expected refusals (409 for a booking that
hits a taken slot) and errors (anything else). Each API worker's peak RSS (VmHWM) is read
from /proc after the run. Results go to ``bench/results/<profile>-<time>.json``; with
``--write`` the Markdown table is written to ``bench/RESULTS.md`` as well.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk" / "scenario.lua"


@dataclass
class Scenario:
    key: str
    title: str
    method: str = "GET"
    reference: bool = False  # the reference server answers it too
    expected: tuple[int, ...] = ()  # refusals that are not errors (booking conflicts)


SCENARIOS = [
    Scenario("patient_by_id", "1 patient by id", reference=True),
    Scenario("patient_list", "2 patient list, first pages", reference=True),
    Scenario("patient_list_deep", "2 patient list, page ~10,000 by cursor", reference=True),
    Scenario("patient_list_offset", "2 patient list, ?page=10000 (OFFSET)", reference=True),
    Scenario("search", "3 fuzzy search, two typos"),
    Scenario("create_patient", "4 create patient", method="POST"),
    Scenario("book", "5 book an appointment", method="POST", expected=(409,)),
    Scenario("appointments_day", "6 appointments by date and doctor", reference=True),
    Scenario("timeline", "7 patient timeline"),
    Scenario("interaction", "8 record an interaction", method="POST"),
]
# Scenario 9, the audit trail's overhead on 1 and 2, is not a wrk scenario: "without the
# trail" exists only in-process (no setting switches the trail off, on purpose), so
# ``audit_overhead.py`` measures it and this script runs it and reports its lines.
AUDIT_OVERHEAD = "audit_overhead"


@dataclass
class Measurement:
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    ok: int = 0
    expected: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def psql(url: str, sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", url, "-AtF", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def django_env(db_url: str, production: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=db_url, PYTHONPATH=str(ROOT))
    if production:
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(48),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            DJANGO_SECURE_SSL_REDIRECT="false",
            LOG_FORMAT="json",
            METRICS_TOKEN=secrets.token_urlsafe(32),
        )
    else:
        env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return env


def ensure_dataset(db_url: str, profile: str, rebuild: bool) -> None:
    server, name = db_url.rsplit("/", 1)
    exists = psql(f"{server}/postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and not rebuild:
        patients = psql(db_url, "SELECT count(*) FROM patients_patient")[0][0]
        print(f"dataset: reusing {name} ({patients} patients)")
        return
    psql(f"{server}/postgres", f'DROP DATABASE IF EXISTS "{name}"')
    psql(f"{server}/postgres", f'CREATE DATABASE "{name}"')
    subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "dataset.py"), "--profile", profile],
        check=True,
        env=django_env(db_url, production=False),
    )


def issue_token(db_url: str) -> str:
    out = subprocess.run(
        [
            str(BIN / "python"),
            "manage.py",
            "create_api_user",
            "bench-provider",
            "--role",
            "provider",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=django_env(db_url, production=False),
    ).stdout
    return out.strip().splitlines()[-1]


def typo(word: str, rng: random.Random) -> str:
    """One typo: swap two neighbouring letters (or double one in a short word)."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def deep_cursors(db_url: str, offsets: list[int]) -> list[str]:
    """The API's ``next`` cursors (core.pagination) after the rows at these offsets."""
    cursors = []
    for offset in offsets:
        rows = psql(
            db_url,
            "SELECT last_name, first_name, id FROM patients_patient "
            "ORDER BY last_name, first_name, id OFFSET GREATEST(0, LEAST("
            f"{int(offset)}, (SELECT count(*) FROM patients_patient) - 21)) LIMIT 1",
        )
        if not rows:
            continue
        last, first, pid = rows[0]
        raw = json.dumps(
            ["last_name,first_name,id", "a", [last, first, pid]], separators=(",", ":")
        )
        cursors.append(base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))
    return cursors or [""]


def request_files(db_url: str, workdir: Path, seed: int = 7) -> dict[str, Path]:
    """One file of requests per scenario, drawn from the dataset."""
    rng = random.Random(seed)
    patients = psql(db_url, "SELECT id FROM patients_patient ORDER BY random() LIMIT 2000")
    ids = [row[0] for row in patients]
    count = int(psql(db_url, "SELECT count(*) FROM patients_patient")[0][0])
    last_page = max(1, count // 20)
    names = psql(
        db_url, "SELECT first_name, last_name FROM patients_patient ORDER BY random() LIMIT 500"
    )
    days = psql(
        db_url,
        "SELECT DISTINCT doctor_id, (start_time AT TIME ZONE 'UTC')::date FROM "
        "appointments_appointment ORDER BY 1, 2 LIMIT 2000",
    )
    doctors = [row[0] for row in psql(db_url, "SELECT id FROM doctors_doctor WHERE is_active")]
    files: dict[str, list[str]] = {
        "patient_by_id": [f"/api/v1/patients/{i}/" for i in ids],
        "patient_list": [f"/api/v1/patients/?page={p}&page_size=20" for p in range(1, 6)],
        # Pages ~10,000 (and deeper) as a walk reaches them: the `next` cursor links.
        "patient_list_deep": [
            f"/api/v1/patients/?cursor={cursor}&page_size=20"
            for cursor in deep_cursors(db_url, [p * 20 - 1 for p in (9_999, 10_000, 20_000)])
        ],
        "patient_list_offset": [
            f"/api/v1/patients/?page={min(last_page, p)}&page_size=20" for p in (10_000, 10_001)
        ],
        "search": [
            "/api/v1/patients/?search="
            + urllib.request.quote(f"{typo(first.lower(), rng)} {typo(last.lower(), rng)}")
            for first, last in names
        ],
        "appointments_day": [f"/api/v1/appointments/?date={d}&doctor_id={doc}" for doc, d in days],
        "timeline": [f"/api/v1/patients/{i}/timeline/" for i in ids],
    }
    files["create_patient"] = [
        "/api/v1/patients/\t"
        + json.dumps(
            {
                "first_name": first,
                "last_name": last,
                "date_of_birth": f"{rng.randint(1930, 2020)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "gender": rng.choice(["female", "male"]),
            }
        )
        for first, last in names
    ]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    files["book"] = [
        "/api/v1/appointments/\t"
        + json.dumps(
            {
                "patient_id": rng.choice(ids),
                "doctor_id": rng.choice(doctors),
                "start_time": (
                    now + timedelta(days=rng.randint(1, 365), minutes=10 * rng.randint(0, 47))
                ).isoformat(),
                "duration_minutes": 20,
            }
        )
        for _ in range(5000)
    ]
    files["interaction"] = [
        "/api/v1/interactions/\t"
        + json.dumps(
            {
                "patient_id": rng.choice(ids),
                "outcome": rng.choice(["healthy", "monitor", "critical"]),
                "notes": "Seen in clinic.",
            }
        )
        for _ in range(2000)
    ]
    paths = {}
    for key, lines in files.items():
        path = workdir / f"{key}.txt"
        path.write_text("\n".join(lines) + "\n")
        paths[key] = path
    return paths


@contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except urllib.error.HTTPError:
                    break  # the reference server answers 401/404: it is up
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"server did not start; see {log}") from None
                    time.sleep(0.2)
            yield proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def worker_peak_rss_mb(master: int) -> list[float]:
    """VmHWM of each gunicorn worker (the master's children)."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if match:
                peaks.append(int(match.group(1)) / 1024)
    return sorted(peaks)


def wrk(
    url: str,
    requests: Path,
    scenario: Scenario,
    token: str,
    args: argparse.Namespace,
    rate: float | None = None,
) -> Measurement:
    env = dict(
        os.environ,
        BENCH_REQUESTS=str(requests),
        BENCH_METHOD=scenario.method,
        BENCH_TOKEN=token,
        BENCH_DELAY_MS=str(int(1000 * args.connections / rate)) if rate else "0",
    )
    out = subprocess.run(
        [
            "wrk",
            f"--threads={args.threads}",
            f"--connections={args.connections}",
            f"--duration={args.duration}s",
            "--timeout=10s",
            "--latency",
            f"--script={LUA}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    m = Measurement()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    m.rps = float(rps.group(1)) if rps else 0.0
    statuses = re.search(r"^BENCH_STATUSES(.*)$", out, re.M)
    for item in statuses.group(1).split() if statuses else []:
        code, n = item.split("=")
        m.statuses[code] = int(n)
        if code.startswith("2"):
            m.ok += int(n)
        elif int(code) in scenario.expected:
            m.expected += int(n)
        else:
            m.errors += int(n)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        m.errors += sum(int(x) for x in errors.groups())
    latency = re.search(r"^BENCH_LATENCY_US (\d+) (\d+) (\d+) (\d+)", out, re.M)
    if latency:
        m.p50_ms, m.p95_ms, m.p99_ms, m.max_ms = (int(x) / 1000 for x in latency.groups())
    return m


def measure(
    url: str, requests: Path, scenario: Scenario, token: str, args: argparse.Namespace
) -> Measurement:
    saturated = wrk(url, requests, scenario, token, args)
    paced = wrk(url, requests, scenario, token, args, rate=max(saturated.rps / 2, 1.0))
    result = Measurement(
        rps=saturated.rps,
        p50_ms=paced.p50_ms,
        p95_ms=paced.p95_ms,
        p99_ms=paced.p99_ms,
        max_ms=paced.max_ms,
        ok=saturated.ok + paced.ok,
        expected=saturated.expected + paced.expected,
        errors=saturated.errors + paced.errors,
    )
    for part in (saturated, paced):
        for code, n in part.statuses.items():
            result.statuses[code] = result.statuses.get(code, 0) + n
    return result


def median(values: list[Measurement]) -> Measurement:
    if not values:
        return Measurement()
    out = Measurement()
    for name in ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms"):
        setattr(out, name, statistics.median(getattr(v, name) for v in values))
    for name in ("ok", "expected", "errors"):
        setattr(out, name, sum(getattr(v, name) for v in values))
    return out


def table(results: dict[str, dict[str, list[Measurement]]]) -> str:
    lines = [
        "| scenario | API rps | p50 ms | p95 ms | p99 ms | reference rps | ratio | 2xx | "
        "expected 4xx | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        if scenario.key not in results:
            continue
        api = median(results[scenario.key].get("api", []))
        ref = median(results[scenario.key].get("reference", []))
        ratio = f"{api.rps / ref.rps:.2f}" if ref.rps else "—"
        ref_rps = f"{ref.rps:,.0f}" if ref.rps else "—"
        lines.append(
            f"| {scenario.title} | {api.rps:,.0f} | {api.p50_ms:.1f} | {api.p95_ms:.1f} | "
            f"{api.p99_ms:.1f} | {ref_rps} | {ratio} | {api.ok} | {api.expected} | "
            f"{api.errors} |"
        )
    return "\n".join(lines)


def versions(db_url: str) -> dict[str, str]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    return {
        "python": sys.version.split()[0],
        "postgresql": psql(db_url, "SHOW server_version")[0][0],
        "wrk": run(["wrk", "--version"]).splitlines()[0] if shutil.which("wrk") else "missing",
        "cpus": str(os.cpu_count()),
        "kernel": os.uname().release,
    }


def audit_overhead(db_url: str, smoke: bool = False) -> list[str]:
    """Scenario 9: ``audit_overhead.py`` on a throwaway ``<bench db>_bench`` database
    (its own rows; the benchmark dataset is not touched), plain vs sync vs spool. The
    smoke profile only proves it runs (few rows, few rounds)."""
    env = django_env(db_url, production=False)
    if smoke:
        env.update(PATIENTS="100", ROUNDS="3", REQUESTS="10")
    out = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "audit_overhead.py")],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    ).stdout
    # Its summary starts at the "<vendor>, N patients" line; the access log comes before.
    lines = [line for line in out.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if " patients, " in line), len(lines))
    lines = lines[start:]
    for line in lines:
        print(f"audit overhead: {line}", flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="API benchmark (see the module docstring)")
    parser.add_argument("--profile", choices=["full", "small", "smoke"], default="full")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-threads", type=int, default=2)
    parser.add_argument(
        "--scenarios", default=",".join([*(s.key for s in SCENARIOS), AUDIT_OVERHEAD])
    )
    parser.add_argument("--rebuild", action="store_true", help="make the dataset again")
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        print("bench/run.py needs wrk (apt-get install wrk)")
        return 2
    db_url = os.environ.get(
        "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/clinic_bench_{args.profile}"
    )
    ensure_dataset(db_url, args.profile, args.rebuild)
    token = issue_token(db_url)
    chosen = [s for s in SCENARIOS if s.key in args.scenarios.split(",")]
    results: dict[str, dict[str, list[Measurement]]] = {s.key: {} for s in chosen}
    peaks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        workdir = Path(tmp)
        files = request_files(db_url, workdir)
        base = os.environ.get("BENCH_PORT_BASE")  # a shared machine: a port range of one's own
        api_port, ref_port = (int(base), int(base) + 1) if base else (free_port(), free_port())
        # The container's own command line (docker/entrypoint.sh `serve`: gthread
        # workers, as many connections per worker as threads, its timeouts and limits),
        # for the API and the reference server alike, so the benchmark measures what is
        # deployed.
        entrypoint = [str(ROOT / "docker" / "entrypoint.sh"), "serve"]
        gunicorn_env = {
            "PYTHON": str(BIN / "python"),
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_THREADS": str(args.worker_threads),
        }
        api_env = dict(
            django_env(db_url, production=True),
            **gunicorn_env,
            GUNICORN_BIND=f"127.0.0.1:{api_port}",
        )
        ref_env = dict(
            api_env,
            GUNICORN_BIND=f"127.0.0.1:{ref_port}",
            REFERENCE_POOL_SIZE=str(args.worker_threads),
        )
        with (
            server(entrypoint, api_env, api_port, workdir / "api.log") as api_pid,
            server(
                [*entrypoint, "bench.reference_server:app"],
                ref_env,
                ref_port,
                workdir / "reference.log",
            ),
        ):
            for n in range(1, args.passes + 1):
                for scenario in chosen:
                    targets = [("api", api_port)]
                    if scenario.reference:
                        targets.append(("reference", ref_port))
                    if n % 2 == 0:
                        targets.reverse()  # interleave which server goes first
                    for name, port in targets:
                        m = measure(
                            f"http://127.0.0.1:{port}", files[scenario.key], scenario, token, args
                        )
                        results[scenario.key].setdefault(name, []).append(m)
                        print(
                            f"pass {n} {scenario.key:<18} {name:<9} {m.rps:8.0f} rps  "
                            f"p99 {m.p99_ms:6.1f} ms  2xx {m.ok}  expected {m.expected}  "
                            f"errors {m.errors}",
                            flush=True,
                        )
            peaks = worker_peak_rss_mb(api_pid)
        api_log = (workdir / "api.log").read_text(errors="replace")
    markdown = table(results)
    audit_lines = []
    if AUDIT_OVERHEAD in args.scenarios.split(","):
        audit_lines = audit_overhead(db_url, smoke=args.profile == "smoke")
    if audit_lines:
        markdown += "\n\n9 audit overhead (`bench/audit_overhead.py`, in-process):\n\n" + "\n".join(
            f"    {line}" for line in audit_lines
        )
    print()
    print(markdown)
    print(f"\nAPI worker peak RSS (MB): {', '.join(f'{p:.0f}' for p in peaks)}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "when": stamp,
        "profile": args.profile,
        "args": vars(args),
        "versions": versions(db_url),
        "worker_peak_rss_mb": peaks,
        "audit_overhead": audit_lines,
        "results": {
            k: {n: [asdict(m) for m in ms] for n, ms in v.items()} for k, v in results.items()
        },
    }
    # Smoke runs (CI) only prove the harness works; their figures are not kept.
    out_dir = ROOT / (".ci-artifacts/bench" if args.profile == "smoke" else "bench/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{args.profile}-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    if args.write:
        (ROOT / "bench" / "RESULTS.md").write_text(
            f"# Benchmark results\n\nProfile `{args.profile}`, {stamp}, "
            f"{args.passes} passes of {args.duration} s, wrk {args.threads} threads x "
            f"{args.connections} connections, gunicorn {args.workers} workers x "
            f"{args.worker_threads} threads.\n\n{markdown}\n\nAPI worker peak RSS (MB): "
            f"{', '.join(f'{p:.0f}' for p in peaks)}\n\nVersions: {record['versions']}\n"
        )
    errors = sum(median(v.get("api", [])).errors for v in results.values())
    if errors or "Traceback" in api_log:
        print(f"benchmark saw {errors} errors; API log tail:\n{api_log[-3000:]}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
