"""The stack the fault suite breaks: its own PostgreSQL, Redis, gunicorn (through
docker/entrypoint.sh, production settings), Celery worker and beat, and nginx with the
repository's config, each on a free 127.0.0.1 port, in a temporary directory.

Nothing here touches the machine's own PostgreSQL or Redis. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _postgres_bin() -> Path:
    """FAULTS_PG_BIN, else PostgreSQL 15's (this project's), else the newest installed."""
    if os.environ.get("FAULTS_PG_BIN"):
        return Path(os.environ["FAULTS_PG_BIN"])
    preferred = Path("/usr/lib/postgresql/15/bin")
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if preferred.exists() or not installed:
        return preferred
    return installed[-1].parent


PG_BIN = _postgres_bin()
NGINX_CONF = ROOT / "deploy" / "k8s" / "base" / "nginx" / "nginx.conf"
VENV = ROOT / ".venv"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def missing_binaries() -> list[str]:
    """What the suite needs from the machine and cannot find."""
    missing = []
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    for name in ("initdb", "pg_ctl"):
        if not (PG_BIN / name).exists():
            missing.append(str(PG_BIN / name))
    if nginx_binary() is None:
        missing.append("nginx")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll ``condition`` every 50 ms; return the seconds it took, fail after ``timeout``."""
    started = time.monotonic()
    pause = threading.Event()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        pause.wait(0.05)
    return time.monotonic() - started


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (connection refused/reset, or timed out)
    body: Any
    seconds: float
    error: str = ""

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def call(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    token: str | None = None,
    timeout: float = 15.0,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One HTTP request on a fresh connection, timed."""
    sent_headers = {"Host": "localhost", "Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers["Content-Type"] = "application/json"
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=sent_headers)
        response = connection.getresponse()
        raw = response.read()
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Reply(0, None, time.monotonic() - started, error=type(exc).__name__)
    finally:
        connection.close()
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, parsed, time.monotonic() - started)


# --------------------------------------------------------------------------- processes


def _as_postgres() -> Callable[[], None] | None:
    """initdb and postgres refuse to run as root: drop to the `postgres` user."""
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam("postgres")

    def demote() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return demote


class Postgres:
    """A throw-away cluster: initdb into ``directory``, pg_ctl on ``port``, trust auth.

    ``options`` are more server settings (``-c name=value ...``); ``database`` is the one
    ``init`` creates."""

    def __init__(
        self, directory: Path, *, database: str = "clinic_faults_suite", options: str = ""
    ) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = free_port()
        self.database = database
        self.options = options
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{database}"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(directory, user.pw_uid, user.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            args,
            check=True,
            timeout=timeout,
            preexec_fn=_as_postgres(),  # needed to leave root
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()
        import psycopg

        admin = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            f"-c fsync=off -c max_connections=60 {self.options}"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, as when the server goes away."""
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop"
        )

    def query_ok(self) -> bool:
        try:
            self.query("SELECT 1")
        except Exception:
            return False
        return True

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return list(conn.execute(sql, params).fetchall())


class Service:
    """A long-running child process in its own process group, output to a log file."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, dict(env), log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group (a worker's pool processes too): nothing cleans up."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Redis(Service):
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        args = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes",
        ]  # fmt: skip
        super().__init__("redis", args, os.environ, directory / "redis.log")

    def start(self) -> None:
        super().start()
        wait_until(lambda: port_open(self.port), timeout=15, what="redis-server to listen")

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def app_environment(*, pg: Postgres, redis: Redis, extra: Mapping[str, str]) -> dict[str, str]:
    """Production settings against the suite's own services (dummy secrets)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "PYTEST"))
    }
    env.update(
        {
            "VIRTUAL_ENV": str(VENV),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "LOG_FORMAT": "text",
            "DATABASE_URL": pg.url,
            "REDIS_URL": redis.url(0),
            "CELERY_BROKER_URL": redis.url(1),
            **extra,
        }
    )
    return env
