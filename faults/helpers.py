"""Requests and database reads shared by the fault tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from faults.conftest import PASSWORD, Stack
from faults.stack import call, wait_until

NOTE_TEXT = (
    "S: 54F with a dry cough for five days. Denies fever.\n"
    "O: BP 128/82, HR 78, T 98.6F, SpO2 98% RA.\n"
    "Meds: lisinopril 10 mg PO daily.\n"
    "A/P: 1. Viral bronchitis. 2. Fluids and rest."
)


def create_patient(stack: Stack, last_name: str | None = None) -> str:
    reply = call(
        stack.nginx_port,
        "POST",
        "/api/v1/patients/",
        token=stack.token,
        body={
            "first_name": "Fault",
            "last_name": last_name or f"Suite-{uuid.uuid4().hex[:8]}",
            "date_of_birth": "1971-03-14",
        },
    )
    assert reply.status == 201, reply
    return str(reply.body["id"])


def post_note(stack: Stack, patient_id: str, content: str = NOTE_TEXT) -> Any:
    taken_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return call(
        stack.nginx_port,
        "POST",
        f"/api/v1/patients/{patient_id}/notes/",
        token=stack.token,
        body={"taken_at": taken_at, "content": content},
    )


def note_row(stack: Stack, note_id: str) -> dict[str, Any]:
    rows = stack.pg.query(
        "SELECT extraction_status, revision, status, content, updated_at FROM notes_note "
        "WHERE id = %s",
        note_id,
    )
    assert len(rows) == 1, f"note {note_id}: {len(rows)} rows"
    status, revision, note_status, content, updated_at = rows[0]
    return {
        "extraction_status": status,
        "revision": revision,
        "status": note_status,
        "content": content,
        "updated_at": updated_at,
    }


def wait_note_done(stack: Stack, note_id: str, *, timeout: float) -> float:
    return wait_until(
        lambda: note_row(stack, note_id)["extraction_status"] == "done",
        timeout=timeout,
        what=f"note {note_id} to be processed",
    )


def count(stack: Stack, table: str) -> int:
    return int(stack.pg.query(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 - fixed names


def login(stack: Stack) -> Any:
    return call(
        stack.nginx_port,
        "POST",
        "/api/v1/auth/token/",
        body={"username": "provider-f", "password": PASSWORD},
    )


def sign(stack: Stack, note_id: str) -> Any:
    return call(
        stack.nginx_port,
        "POST",
        f"/api/v1/notes/{note_id}/sign/",
        token=stack.token,
        body={"password": PASSWORD, "meaning": "authorship"},
    )
