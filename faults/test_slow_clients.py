"""Slow clients: 50 sockets that send half a request header (and 10 that send half a
body) and then go silent must not stop /health or the API behind nginx. Without nginx
the same sockets do take gunicorn's threads: the second half shows the proxy is what
protects it (and that this test can fail)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from faults.conftest import GUNICORN_THREADS, GUNICORN_WORKERS, Report, Stack
from faults.stack import call

SLOW_HEADERS = 50
SLOW_BODIES = 10


@contextmanager
def slow_clients(port: int, *, headers: int, bodies: int) -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    try:
        for _ in range(headers):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            sockets.append(sock)
        for _ in range(bodies):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(
                b"POST /api/v1/auth/token/ HTTP/1.1\r\nHost: localhost\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"user'
            )
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_fifty_slow_clients_do_not_stop_health_behind_nginx(stack: Stack, report: Report) -> None:
    with slow_clients(stack.nginx_port, headers=SLOW_HEADERS, bodies=SLOW_BODIES):
        health = [call(stack.nginx_port, "GET", "/health", timeout=5) for _ in range(20)]
        api = call(stack.nginx_port, "GET", "/api/v1/patients/", token=stack.token, timeout=5)
        direct = call(stack.api_port, "GET", "/health", timeout=5)

    assert [r.status for r in health] == [200] * 20
    assert all(r.body == {"status": "ok"} for r in health)
    assert api.status == 200
    assert direct.status == 200
    slowest = max(r.seconds for r in health)
    assert slowest < 1.0, f"/health took {slowest:.2f} s behind 60 idle sockets"
    report(
        case="slow clients via nginx",
        clients=f"{SLOW_HEADERS} half headers + {SLOW_BODIES} half bodies open: "
        f"20/20 GET /health 200 (slowest {slowest * 1000:.0f} ms), API list 200",
        recovery_s="n/a (never degraded)",
        rows="none written",
    )


def test_without_nginx_the_same_slow_clients_take_every_gunicorn_thread(
    stack: Stack, report: Report
) -> None:
    threads = GUNICORN_WORKERS * GUNICORN_THREADS
    with slow_clients(stack.api_port, headers=SLOW_HEADERS, bodies=0):
        starved = call(stack.api_port, "GET", "/health", timeout=3)
    # Once the idle sockets go away, gunicorn serves again by itself.
    after = call(stack.api_port, "GET", "/health", timeout=10)

    assert starved.status == 0, f"gunicorn answered {starved.status} with its threads held"
    assert after.status == 200
    report(
        case="slow clients direct to gunicorn (control)",
        clients=f"{SLOW_HEADERS} half headers hold all {threads} threads: "
        f"GET /health no answer in 3 s; 200 once they close",
        recovery_s=f"{after.seconds:.2f}",
        rows="none written",
    )


def test_nginx_refuses_a_body_over_the_upload_limit_in_the_error_shape(stack: Stack) -> None:
    """client_max_body_size (12 MB: NOTES_MAX_UPLOAD_MB plus multipart overhead) is
    nginx's to enforce; its refusal is JSON like the API's own errors."""
    declared = 13 * 1024 * 1024  # only announced: nginx answers before reading a byte of it
    with socket.create_connection(("127.0.0.1", stack.nginx_port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/token/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(declared).encode()
            + b"\r\n\r\n"
        )
        reply = b""
        with contextlib.suppress(ConnectionResetError):  # nginx closes once it has answered
            while chunk := sock.recv(65536):
                reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"application/json" in head
    document = json.loads(payload)
    assert document["code"] == "request_too_large"
    assert document["request_id"]
