"""The API through a real PgBouncer in transaction pooling mode, from several threads.

Django's default alias reaches the primary through PgBouncer (pgstack/conftest.py), which
has fewer server connections than the API has threads, so consecutive transactions of
one client run on different server connections. A server-side prepared statement would
then be missing ("prepared statement ... does not exist") or clash with another client's
("... already exists"); the last test shows that failure with psycopg told to prepare, so
the first cannot pass by not looking.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.db import connection

from appointments.tests.helpers import at, future_weekday
from core.permissions import Role
from doctors.tests.factories import DoctorFactory
from faults.stack import Reply, call
from pgstack.servers import PGBOUNCER_POOL_SIZE, PgBouncer

# List and search views read the replica (the standby of the same primary).
BOTH = ["default", "replica"]
pytestmark = [pytest.mark.pgbouncer, pytest.mark.django_db(transaction=True, databases=BOTH)]
THREADS = 6
ROUNDS = 4
PASSWORD = "Pgstack-provider-pass-5821"
EXPECTED = {
    "create": {201},
    "get": {200},
    "list": {200},
    "search": {200},
    "book": {201, 409},
    "day": {200},
}


@pytest.mark.django_db(databases=BOTH)  # writes nothing: no flush after
def test_django_reaches_the_primary_through_pgbouncer_without_prepares(
    pgbouncer: PgBouncer,
) -> None:
    assert int(connection.settings_dict["PORT"]) == pgbouncer.port
    connection.ensure_connection()
    assert connection.connection is not None
    assert connection.connection.prepare_threshold is None
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")  # from the server's settings
        assert cursor.fetchone() == ("0.3",)


def test_concurrent_api_traffic_through_transaction_pooling(
    pgbouncer: PgBouncer, live_server: Any, make_user: Any
) -> None:
    make_user(Role.PROVIDER, username="pgstack-provider", password=PASSWORD)
    doctor = DoctorFactory.create()
    port = int(urlparse(live_server.url).port or 0)
    login = call(
        port,
        "POST",
        "/api/v1/auth/token/",
        body={"username": "pgstack-provider", "password": PASSWORD},
    )
    assert login.status == 200, login
    token = str(login.body["token"])
    day = future_weekday()
    seen: Counter[tuple[str, int]] = Counter()
    problems: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def record(step: str, reply: Reply) -> Reply:
        with lock:
            seen[(step, reply.status)] += 1
            if reply.status not in EXPECTED[step]:
                problems.append(f"{step}: {reply.status} {reply.body or reply.error}")
        return reply

    def client(index: int) -> None:
        barrier.wait(timeout=30)
        for round_ in range(ROUNDS):
            created = record(
                "create",
                call(
                    port,
                    "POST",
                    "/api/v1/patients/",
                    token=token,
                    body={
                        "first_name": "Pooled",
                        "last_name": f"Bouncer{index}r{round_}",
                        "date_of_birth": "1975-06-07",
                    },
                ),
            )
            if created.status != 201:
                continue
            patient_id = created.body["id"]
            record("get", call(port, "GET", f"/api/v1/patients/{patient_id}/", token=token))
            record("list", call(port, "GET", "/api/v1/patients/?page_size=5", token=token))
            record("search", call(port, "GET", "/api/v1/patients/?search=Bouncer", token=token))
            # Two threads per slot: one booking each, the other a 409 from the constraint.
            slot = round_ * 3 + index % 3
            start = at(day, 9) + timedelta(minutes=15 * slot)
            record(
                "book",
                call(
                    port,
                    "POST",
                    "/api/v1/appointments/",
                    token=token,
                    body={
                        "patient_id": patient_id,
                        "doctor_id": str(doctor.pk),
                        "start_time": start.isoformat(),
                        "duration_minutes": 15,
                    },
                ),
            )
            path = f"/api/v1/appointments/?date={day}&doctor_id={doctor.pk}"
            record("day", call(port, "GET", path, token=token))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not problems, problems
    assert seen[("create", 201)] == THREADS * ROUNDS
    assert seen[("book", 201)] == seen[("book", 409)] == THREADS * ROUNDS // 2
    log = pgbouncer.log_text()
    assert "prepared statement" not in log
    database = str(connection.settings_dict["NAME"])
    servers = [row for row in pgbouncer.show("SERVERS") if row["database"] == database]
    assert 0 < len(servers) <= PGBOUNCER_POOL_SIZE
    stats = {row["database"]: row for row in pgbouncer.show("STATS")}
    assert int(stats[database]["total_xact_count"]) > 6 * THREADS * ROUNDS


@pytest.mark.django_db(databases=BOTH)
def test_server_side_prepares_break_under_transaction_pooling(pgbouncer: PgBouncer) -> None:
    """What prepare_threshold=None avoids: two clients that prepare share one server
    connection, one after the other, and their statements' names collide."""
    url = pgbouncer.url(str(connection.settings_dict["NAME"]))
    failures = []
    with (
        psycopg.connect(url, autocommit=True, prepare_threshold=0) as first,
        psycopg.connect(url, autocommit=True, prepare_threshold=0) as second,
    ):
        for _ in range(3):
            for client in (first, second):
                try:
                    client.execute("SELECT %s::int", [1]).fetchone()
                except psycopg.Error as exc:
                    failures.append(str(exc))
    assert any("prepared statement" in failure for failure in failures), failures


def test_a_stopped_pgbouncer_is_a_503_and_the_api_recovers(
    pgbouncer: PgBouncer, viewer_client: Any
) -> None:
    assert viewer_client.get("/api/v1/patients/").status_code == 200
    pgbouncer.stop()
    try:
        down = viewer_client.get("/api/v1/patients/")
        assert down.status_code == 503, down.content
        assert down.json()["code"] == "database_unavailable"
    finally:
        pgbouncer.start()
        connection.close()
        connection.forget_unreachable()  # type: ignore[attr-defined]
        connection.close_pool()  # type: ignore[attr-defined]  # its connections died
    assert viewer_client.get("/api/v1/patients/").status_code == 200
