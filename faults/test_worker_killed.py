"""The Celery worker SIGKILLed mid-summary (main process and pool together, so nothing
rejects the message), and a fresh worker started.

The message stays unacknowledged in Redis (acks_late); once it has been out for the
visibility timeout (CELERY_TASK_TIME_LIMIT + 30 s) the fresh worker restores and runs
it, and the run takes over the claim, which expired after CELERY_TASK_TIME_LIMIT. Before
that the job still belongs to the lost run (retry: 409); after the claim expired it
counts as failed, so a new request queues a new job instead of returning the stuck one.
"""

from __future__ import annotations

import time

from faults.conftest import TASK_TIME_LIMIT, Report, Stack
from faults.helpers import create_patient
from faults.stack import call, wait_until


def summary_row(stack: Stack, summary_id: str) -> tuple[str, object]:
    rows = stack.pg.query(
        "SELECT status, started_at FROM summaries_summary WHERE id = %s", summary_id
    )
    assert len(rows) == 1
    return rows[0][0], rows[0][1]


def test_worker_killed_mid_summary_is_redelivered(stack: Stack, report: Report) -> None:
    patient_id = create_patient(stack)
    stack.fake_openai.enqueue("gate")  # the provider holds its first answer: a slow model
    try:
        queued = call(
            stack.nginx_port,
            "POST",
            f"/api/v1/patients/{patient_id}/summaries/",
            token=stack.token,
            body={},
        )
        assert queued.status == 202, queued
        job = str(queued.body["id"])
        wait_until(
            lambda: summary_row(stack, job)[0] == "running" and bool(stack.fake_openai.requests),
            timeout=60,
            what="the worker to be mid-summary",
        )
        claimed = time.monotonic()

        stack.worker.kill()
        stack.new_worker()

        live_claim = call(
            stack.nginx_port, "POST", f"/api/v1/summaries/{job}/retry/", token=stack.token
        )
        assert summary_row(stack, job)[0] == "running"
        assert (live_claim.status, live_claim.code) == (409, "summary_not_failed")

        # Once the claim has expired, the stuck job counts as failed for a new request.
        wait_until(
            lambda: time.monotonic() - claimed > TASK_TIME_LIMIT + 1,
            timeout=TASK_TIME_LIMIT + 5,
            what="the claim lease to pass",
        )
        fresh = call(
            stack.nginx_port,
            "POST",
            f"/api/v1/patients/{patient_id}/summaries/",
            token=stack.token,
            body={},
        )
        assert fresh.status in (200, 202), fresh
        assert fresh.body["id"] != job

        # And the killed run's message comes back: the fresh worker completes the job.
        wait_until(
            lambda: summary_row(stack, job)[0] == "succeeded",
            timeout=TASK_TIME_LIMIT + 90,
            what="the lost job to be redelivered and finish",
        )
        redelivered_after = time.monotonic() - claimed
    finally:
        stack.fake_openai.open_gate()

    assert redelivered_after < TASK_TIME_LIMIT + 60, f"redelivered after {redelivered_after:.0f} s"
    wait_until(
        lambda: summary_row(stack, str(fresh.body["id"]))[0] == "succeeded",
        timeout=60,
        what="the new job to finish",
    )
    rows = stack.pg.query(
        "SELECT status, count(*) FROM summaries_summary WHERE patient_id = %s GROUP BY status",
        patient_id,
    )
    assert dict(rows) == {"succeeded": 2}

    report(
        case="worker SIGKILLed mid-summary",
        clients="retry during the live claim 409 summary_not_failed; after the claim "
        f"expired ({TASK_TIME_LIMIT} s) a new POST got a new job",
        recovery_s=f"{redelivered_after:.1f} (claim -> lost job succeeded on the fresh "
        f"worker; bound {TASK_TIME_LIMIT} + 60)",
        rows="2 summaries, both succeeded; none left running",
    )
