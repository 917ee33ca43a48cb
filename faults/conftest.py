"""The fault suite's stack, started once per session (see faults/stack.py).

Run it explicitly (it is outside the default test collection):

    .venv/bin/python -m pytest faults -q

It skips, with the reason, when the machine lacks redis-server, PostgreSQL 15's initdb
and pg_ctl, or nginx (.ci/install-system-packages installs nginx).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from faults.stack import (
    NGINX_CONF,
    ROOT,
    VENV,
    Postgres,
    Redis,
    Service,
    app_environment,
    call,
    free_port,
    missing_binaries,
    nginx_binary,
    port_open,
    wait_until,
)
from summaries.tests.fake_openai import FakeOpenAI

# Small limits so that each fault plays out in seconds (production: 300 s and 60 s).
TASK_TIME_LIMIT = 10  # the summary claim lease; visibility timeout = this + 30 s
DB_CONNECT_TIMEOUT = 3
SWEEP_INTERVAL = 1
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
PASSWORD = "Fault-suite-provider-pass-7341"
RESULTS: list[dict[str, Any]] = []
Report = Callable[..., None]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_binaries()
    if missing:
        skip = pytest.mark.skip(reason=f"the fault suite needs {', '.join(missing)}")
        for item in items:
            if "faults" in Path(str(item.fspath)).parts:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    terminalreporter.section("fault suite: what clients saw, recovery, rows checked")
    for row in RESULTS:
        terminalreporter.write_line(" | ".join(f"{key}: {value}" for key, value in row.items()))


@pytest.fixture
def report(record_testsuite_property: Any) -> Report:
    """``report(case=..., clients=..., recovery_s=..., rows=...)``: one line of the summary
    (also JUnit properties of the suite, in faults.xml)."""

    def add(**row: Any) -> None:
        RESULTS.append(row)
        for key, value in row.items():
            if key != "case":
                record_testsuite_property(f"{row['case']}: {key}", value)

    return add


@dataclass
class Stack:
    directory: Path
    pg: Postgres
    redis: Redis
    fake_openai: FakeOpenAI
    env: dict[str, str]
    api_port: int
    nginx_port: int
    api: Service
    worker: Service
    beat: Service
    nginx: Service
    token: str = ""
    services: list[Service] = field(default_factory=list)

    def new_worker(self) -> Service:
        worker = Service(
            "worker",
            [str(ROOT / "docker" / "entrypoint.sh"), "worker"],
            self.env,
            self.directory / "worker.log",
        )
        worker.start()
        self.services.append(worker)
        self.worker = worker
        return worker

    def api_ready(self) -> bool:
        return call(self.api_port, "GET", "/health/ready", timeout=5).status == 200

    def logs(self) -> str:
        parts = [f"--- {s.name}\n{s.tail()}" for s in (self.api, self.worker, self.beat)]
        return "\n".join(parts)


def _login(port: int, username: str) -> str:
    reply = call(
        port, "POST", "/api/v1/auth/token/", body={"username": username, "password": PASSWORD}
    )
    assert reply.status == 200, reply
    return str(reply.body["token"])


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if missing_binaries():
        pytest.skip(f"the fault suite needs {', '.join(missing_binaries())}")
    directory = Path(tempfile.mkdtemp(prefix="clinic-faults-"))
    directory.chmod(0o755)  # the postgres user and nginx's workers read in here
    (directory / "pg").mkdir()
    pg = Postgres(directory / "pg")
    redis = Redis(directory)
    fake = FakeOpenAI()
    fake.__enter__()
    services: list[Service] = []
    try:
        pg.init()
        redis.start()
        api_port, nginx_port = free_port(), free_port()
        env = app_environment(
            pg=pg,
            redis=redis,
            extra={
                "GUNICORN_BIND": f"127.0.0.1:{api_port}",
                "GUNICORN_WORKERS": str(GUNICORN_WORKERS),
                "GUNICORN_THREADS": str(GUNICORN_THREADS),
                "GUNICORN_TIMEOUT": "30",
                "DB_CONNECT_TIMEOUT_SECONDS": str(DB_CONNECT_TIMEOUT),
                "DB_POOL_MAX_SIZE": str(GUNICORN_THREADS),
                "CELERY_TASK_TIME_LIMIT": str(TASK_TIME_LIMIT),
                "CELERY_WORKER_CONCURRENCY": "1",
                "NOTES_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL),
                "SUMMARY_SWEEP_INTERVAL_SECONDS": "3600",
                "SUMMARY_PROVIDER": "openai",
                "OPENAI_API_KEY": "sk-fault-suite-0000000000000000",
                "OPENAI_BASE_URL": fake.base_url,
                "SUMMARY_TIMEOUT_SECONDS": "120",
                "SUMMARY_MAX_RETRIES": "0",
                "API_TOKEN_THROTTLE_RATE": "1000/min",
                "NOTES_SIGN_THROTTLE_RATE": "1000/min",
            },
        )
        python = str(VENV / "bin" / "python")
        api = Service(
            "api", [str(ROOT / "docker" / "entrypoint.sh"), "api"], env, directory / "api.log"
        )
        api.start()
        services.append(api)
        # bootstrap migrates the empty database first; bounded, generous on a busy machine.
        wait_until(lambda: port_open(api_port) or not api.running, timeout=180, what="gunicorn")
        assert api.running, api.tail()
        created = subprocess.run(
            [
                python,
                "manage.py",
                "create_api_user",
                "provider-f",
                "--role",
                "provider",
                "--password-stdin",
            ],
            input=f"{PASSWORD}\n",
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert created.returncode == 0
        worker = Service(
            "worker",
            [str(ROOT / "docker" / "entrypoint.sh"), "worker"],
            env,
            directory / "worker.log",
        )
        worker.start()
        services.append(worker)
        beat = Service(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "config.celery_app",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(directory / "celerybeat-schedule"),
            ],
            env,
            directory / "beat.log",
        )
        beat.start()
        services.append(beat)
        conf = NGINX_CONF.read_text()
        for old, new in (
            ("server api:8000;", f"server 127.0.0.1:{api_port};"),
            ("listen 8080;", f"listen 127.0.0.1:{nginx_port};"),
            ("/tmp/", f"{directory}/"),
        ):
            assert old in conf, f"nginx.conf no longer has {old!r}"
            conf = conf.replace(old, new)
        (directory / "nginx.conf").write_text(conf)
        nginx = Service(
            "nginx",
            [
                nginx_binary() or "nginx",
                "-c",
                str(directory / "nginx.conf"),
                "-p",
                str(directory),
                "-g",
                "daemon off;",
            ],
            os.environ,
            directory / "nginx.log",
        )
        nginx.start()
        services.append(nginx)
        wait_until(lambda: port_open(nginx_port), timeout=15, what="nginx")
        stack = Stack(
            directory,
            pg,
            redis,
            fake,
            env,
            api_port,
            nginx_port,
            api,
            worker,
            beat,
            nginx,
            services=services,
        )
        wait_until(stack.api_ready, timeout=30, what="/health/ready")
        stack.token = _login(nginx_port, "provider-f")
        yield stack
    finally:
        for service in reversed(services):
            service.stop()
        redis.stop()
        with contextlib.suppress(Exception):  # already stopped by a failed test, or never up
            pg.stop()
        fake.__exit__(None, None, None)
        if os.environ.get("FAULTS_KEEP_DIR"):
            print(f"fault suite files kept in {directory}")  # noqa: T201
        else:
            shutil.rmtree(directory, ignore_errors=True)
