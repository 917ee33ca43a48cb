"""Redis (cache and broker) stopped under the API, then started again.

Saving a note does not need Redis: 201 ``pending``, and beat's pending-notes sweep queues
it once the broker is back. Reprocessing, logging in and signing do (the job queue, and
the throttles that guard passwords): 503 ``service_unavailable`` with nothing changed.
"""

from __future__ import annotations

import time

from faults.conftest import Report, Stack
from faults.helpers import (
    NOTE_TEXT,
    count,
    create_patient,
    login,
    note_row,
    post_note,
    sign,
    wait_note_done,
)
from faults.stack import call, wait_until

NOTES_WHILE_DOWN = 3


def test_redis_down_then_back(stack: Stack, report: Report) -> None:
    patient_id = create_patient(stack)
    saved = post_note(stack, patient_id)
    assert saved.status == 201, saved
    done_note = saved.body["id"]
    wait_note_done(stack, done_note, timeout=60)
    before = note_row(stack, done_note)
    tokens_before = count(stack, "knox_authtoken")

    stack.redis.stop()
    try:
        ready = call(stack.api_port, "GET", "/health/ready", timeout=10)
        posted = [post_note(stack, patient_id, f"{NOTE_TEXT}\nVisit {i}.") for i in range(3)]
        listed = call(stack.nginx_port, "GET", "/api/v1/patients/", token=stack.token)
        reprocess = call(
            stack.nginx_port, "POST", f"/api/v1/notes/{done_note}/reprocess/", token=stack.token
        )
        logged_in = login(stack)
        signed = sign(stack, done_note)
        during = note_row(stack, done_note)
        tokens_during = count(stack, "knox_authtoken")
        signatures_during = count(stack, "notes_signature")
    finally:
        stack.redis.start()
    back = time.monotonic()

    # What clients saw while Redis was down.
    assert ready.status == 503
    assert ready.body["checks"]["redis"].startswith("failed")
    assert [r.status for r in posted] == [201] * NOTES_WHILE_DOWN, posted
    assert {r.body["extraction_status"] for r in posted} == {"pending"}
    assert listed.status == 200
    for reply in (reprocess, logged_in, signed):
        assert (reply.status, reply.code) == (503, "service_unavailable"), reply
        assert reply.body["request_id"]
    slowest = max(r.seconds for r in [*posted, reprocess, logged_in, signed])
    assert slowest < 5, f"a request took {slowest:.1f} s with Redis down"
    # Nothing a failed request touched changed; every 201 is stored in full.
    assert {k: during[k] for k in ("extraction_status", "revision", "status")} == {
        "extraction_status": "done",
        "revision": before["revision"],
        "status": "draft",
    }
    assert tokens_during == tokens_before
    assert signatures_during == 0
    for i, reply in enumerate(posted):
        row = note_row(stack, reply.body["id"])
        assert row["content"] == f"{NOTE_TEXT}\nVisit {i}."
        assert row["extraction_status"] == "pending"

    # Back: the sweep queues the notes saved meanwhile, and the worker reconnects.
    for reply in posted:
        wait_note_done(stack, reply.body["id"], timeout=90)
    recovery = time.monotonic() - back
    wait_until(stack.api_ready, timeout=30, what="/health/ready")
    again = call(
        stack.nginx_port, "POST", f"/api/v1/notes/{done_note}/reprocess/", token=stack.token
    )
    assert again.status == 202, again
    wait_note_done(stack, done_note, timeout=60)
    assert login(stack).status == 200
    assert sign(stack, done_note).status == 200
    assert count(stack, "notes_signature") == 1
    notes = stack.pg.query("SELECT count(*) FROM notes_note WHERE patient_id = %s", patient_id)
    assert notes[0][0] == 1 + NOTES_WHILE_DOWN

    report(
        case="Redis stopped",
        clients=f"note POST 201 pending x{NOTES_WHILE_DOWN}; patient list 200; reprocess, "
        f"login, sign 503 service_unavailable (slowest {slowest:.2f} s); ready 503",
        recovery_s=f"{recovery:.1f} (Redis start -> all {NOTES_WHILE_DOWN} notes done)",
        rows=f"{NOTES_WHILE_DOWN} notes stored whole and processed; done note unchanged; "
        "no token, no signature from a 503",
    )
