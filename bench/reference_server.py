"""The limit the benchmark measures against: a minimal WSGI server for three read scenarios.

    DATABASE_URL=postgres://... gunicorn bench.reference_server:app --workers 2 --threads 2

Raw WSGI + psycopg 3 (a connection pool per process) + orjson: the same SQL the API runs
for the same answer, the same JSON shape, and the same token check done as one indexed
lookup (the SHA-512 digest of the bearer token is knox's primary key). No framework, no
roles, no audit, no middleware: what the hardware and PostgreSQL allow for these reads.

* ``GET /api/v1/patients/{id}/``
* ``GET /api/v1/patients/?page=&page_size=`` or ``?cursor=`` (the API's count strategy —
  the table's estimate above PAGINATION_EXACT_COUNT_LIMIT, else a bounded count — and
  the page, ordered by name then id; a cursor from the API's ``next`` link continues
  after its position)
* ``GET /api/v1/appointments/?date=YYYY-MM-DD&doctor_id=…`` (the clinic's calendar day)

Anything else is a 404. It is a measuring stick, not a second implementation: it checks
only what it needs to answer these three requests.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import orjson
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

POOL = ConnectionPool(
    os.environ["DATABASE_URL"],
    min_size=int(os.environ.get("REFERENCE_POOL_SIZE", "2")),
    max_size=int(os.environ.get("REFERENCE_POOL_SIZE", "2")),
    kwargs={"row_factory": tuple_row},
    open=True,
)
ZONE = ZoneInfo(os.environ.get("CLINIC_TIME_ZONE", "UTC"))

TOKEN_SQL = (
    "SELECT user_id FROM knox_authtoken WHERE digest = %s AND (expiry IS NULL OR expiry > now())"
)
PATIENT_COLUMNS = (
    "p.id, p.mrn, p.first_name, p.last_name, p.date_of_birth, p.gender, p.email, p.phone, "
    "o.code, o.label, o.severity, l.occurred_at, p.created_at, p.updated_at"
)
PATIENT_SQL = (
    f"SELECT {PATIENT_COLUMNS} FROM patients_patient p "
    "LEFT JOIN patients_latestoutcome l ON l.patient_id = p.id "
    "LEFT JOIN outcomes_outcome o ON o.code = l.outcome_id WHERE p.id = %s"
)
PATIENT_PAGE_SQL = (
    f"SELECT {PATIENT_COLUMNS} FROM patients_patient p "
    "LEFT JOIN patients_latestoutcome l ON l.patient_id = p.id "
    "LEFT JOIN outcomes_outcome o ON o.code = l.outcome_id "
    "ORDER BY p.last_name, p.first_name, p.id LIMIT %s OFFSET %s"
)
# A deep OFFSET page, as the API reads it: the ids from the index first.
PATIENT_DEEP_PAGE_SQL = (
    f"SELECT {PATIENT_COLUMNS} FROM patients_patient p "
    "LEFT JOIN patients_latestoutcome l ON l.patient_id = p.id "
    "LEFT JOIN outcomes_outcome o ON o.code = l.outcome_id "
    "WHERE p.id IN (SELECT id FROM patients_patient "
    "ORDER BY last_name, first_name, id LIMIT %s OFFSET %s) "
    "ORDER BY p.last_name, p.first_name, p.id"
)
PATIENT_CURSOR_SQL = (
    f"SELECT {PATIENT_COLUMNS} FROM patients_patient p "
    "LEFT JOIN patients_latestoutcome l ON l.patient_id = p.id "
    "LEFT JOIN outcomes_outcome o ON o.code = l.outcome_id "
    "WHERE (p.last_name, p.first_name, p.id) > (%s, %s, %s) "
    "ORDER BY p.last_name, p.first_name, p.id LIMIT %s"
)
EXACT_COUNT_LIMIT = int(os.environ.get("PAGINATION_EXACT_COUNT_LIMIT", "10000"))
# core.pagination's one statement for an unfiltered list.
PATIENT_COUNT_SQL = (
    "SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "
    "ELSE (SELECT count(*) FROM (SELECT id FROM patients_patient LIMIT %s) bounded) END, "
    "c.reltuples > %s FROM pg_class c WHERE c.oid = 'patients_patient'::regclass"
)
DEFERRED_JOIN_OFFSET = 1000
APPOINTMENTS_SQL = (
    "SELECT a.id, a.patient_id, a.doctor_id, p.mrn, p.first_name, p.last_name, d.full_name, "
    "d.specialty, a.start_time, a.end_time, a.duration_minutes, a.status, a.reason, "
    "a.cancellation_reason, a.cancelled_at, u.username, a.created_at, a.updated_at "
    "FROM appointments_appointment a "
    "JOIN patients_patient p ON p.id = a.patient_id "
    "JOIN doctors_doctor d ON d.id = a.doctor_id "
    "LEFT JOIN auth_user u ON u.id = a.created_by_id "
    "WHERE a.doctor_id = %s AND a.start_time >= %s AND a.start_time < %s "
    "ORDER BY a.start_time, a.id LIMIT %s OFFSET %s"
)
APPOINTMENTS_COUNT_SQL = (  # bounded, as the API counts a filtered list
    "SELECT count(*) FROM (SELECT a.id FROM appointments_appointment a "
    "WHERE a.doctor_id = %s AND a.start_time >= %s AND a.start_time < %s LIMIT %s) bounded"
)


def iso(value: datetime | None) -> str | None:
    """DRF's rendering: ISO 8601 in UTC with a ``Z``."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def patient_json(row: tuple[Any, ...]) -> dict[str, Any]:
    (pid, mrn, first, last, born, gender, email, phone, code, label, severity, at, c, u) = row
    return {
        "id": str(pid),
        "mrn": mrn,
        "first_name": first,
        "last_name": last,
        "date_of_birth": born.isoformat(),
        "gender": gender,
        "email": email,
        "phone": phone,
        "latest_outcome": (
            {"code": code, "label": label, "severity": severity, "occurred_at": iso(at)}
            if code is not None
            else None
        ),
        "created_at": iso(c),
        "updated_at": iso(u),
    }


def appointment_json(row: tuple[Any, ...]) -> dict[str, Any]:
    (aid, pid, did, mrn, first, last, doctor, specialty, start, end, minutes, status) = row[:12]
    reason, cancellation_reason, cancelled_at, created_by, created_at, updated_at = row[12:]
    return {
        "id": str(aid),
        "patient_id": str(pid),
        "doctor_id": str(did),
        "patient": {"id": str(pid), "mrn": mrn, "first_name": first, "last_name": last},
        "doctor": {"id": str(did), "full_name": doctor, "specialty": specialty},
        "start_time": iso(start),
        "end_time": iso(end),
        "duration_minutes": minutes,
        "status": status,
        "reason": reason,
        "cancellation_reason": cancellation_reason,
        "cancelled_at": iso(cancelled_at),
        "created_by": created_by,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
    }


def page_links(environ: dict[str, Any], page: int, size: int, more: bool) -> tuple[Any, Any]:
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}"
    following = f"{base}?page={page + 1}&page_size={size}" if more else None
    previous = f"{base}?page={page - 1}&page_size={size}" if page > 1 else None
    return following, previous


def patient_cursor(row: tuple[Any, ...] | None, environ: dict[str, Any], size: int) -> Any:
    """A ``next`` link in the API's cursor format (core.pagination.encode_cursor)."""
    if row is None:
        return None
    raw = orjson.dumps(["last_name,first_name,id", "a", [row[3], row[2], str(row[0])]])
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}"
    return f"{base}?cursor={cursor}&page_size={size}"


def patient_page(conn: Any, query: dict[str, str], size: int) -> tuple[list[Any], bool]:
    if "cursor" in query:
        raw = query["cursor"]
        _, _, (last, first, pid) = orjson.loads(
            base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        )
        rows = conn.execute(PATIENT_CURSOR_SQL, (last, first, uuid.UUID(pid), size + 1)).fetchall()
    else:
        offset = (int(query.get("page", "1")) - 1) * size
        sql = PATIENT_DEEP_PAGE_SQL if offset >= DEFERRED_JOIN_OFFSET else PATIENT_PAGE_SQL
        rows = conn.execute(sql, (size + 1, offset)).fetchall()
    return rows[:size], len(rows) > size


def respond(start_response: StartResponse, status: str, body: Any) -> Iterable[bytes]:
    data = orjson.dumps(body)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        return respond(start_response, "401 Unauthorized", {"code": "not_authenticated"})
    digest = hashlib.sha512(header[7:].encode()).hexdigest()
    path = environ["PATH_INFO"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    with POOL.connection() as conn:
        if conn.execute(TOKEN_SQL, (digest,)).fetchone() is None:
            return respond(start_response, "401 Unauthorized", {"code": "authentication_failed"})
        if path.startswith("/api/v1/patients/") and len(path) > len("/api/v1/patients/"):
            try:
                pid = uuid.UUID(path.rstrip("/").rsplit("/", 1)[-1])
            except ValueError:
                return respond(start_response, "404 Not Found", {"code": "not_found"})
            row = conn.execute(PATIENT_SQL, (pid,)).fetchone()
            if row is None:
                return respond(start_response, "404 Not Found", {"code": "not_found"})
            return respond(start_response, "200 OK", patient_json(row))
        page = int(query.get("page", "1"))
        size = min(int(query.get("page_size", "20")), 100)
        if path.rstrip("/") == "/api/v1/patients":
            limit = EXACT_COUNT_LIMIT
            count, estimated = conn.execute(PATIENT_COUNT_SQL, (limit, limit + 1, limit)).fetchone()
            rows, more = patient_page(conn, query, size)
            _, previous = page_links(environ, page, size, more)
            return respond(
                start_response,
                "200 OK",
                {
                    "count": count,
                    "count_is_estimate": estimated,
                    "next": patient_cursor(rows[-1] if more and rows else None, environ, size),
                    "previous": previous,
                    "results": [patient_json(r) for r in rows],
                },
            )
        if path.rstrip("/") == "/api/v1/appointments":
            day = date.fromisoformat(query["date"])
            start = datetime.combine(day, time(), ZONE)
            end = datetime.combine(day + timedelta(days=1), time(), ZONE)
            doctor = uuid.UUID(query["doctor_id"])
            count = conn.execute(
                APPOINTMENTS_COUNT_SQL, (doctor, start, end, EXACT_COUNT_LIMIT + 1)
            ).fetchone()[0]
            rows = conn.execute(
                APPOINTMENTS_SQL, (doctor, start, end, size + 1, (page - 1) * size)
            ).fetchall()
            following, previous = page_links(environ, page, size, len(rows) > size)
            rows = rows[:size]
            return respond(
                start_response,
                "200 OK",
                {
                    "count": count,
                    "count_is_estimate": False,
                    "next": following,
                    "previous": previous,
                    "results": [appointment_json(r) for r in rows],
                },
            )
    return respond(start_response, "404 Not Found", {"code": "not_found"})
