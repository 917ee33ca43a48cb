"""The queue for real: a broker that is down, the embedded (eager) default, and a real
Celery worker on the real Redis broker. These tests commit, like production requests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery import Celery
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from patients.models import Patient
from summaries.models import Summary, SummaryStatus
from summaries.tests.factories import SummaryFactory
from summaries.tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def _forget_broker_connections() -> None:
    """Drop the app's pooled broker connections and producers, which are bound to the
    broker URL in force when they were made (eager runs make them too)."""
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker() -> Iterator[Callable[[str], Celery]]:
    """Point the Celery app at a broker (and stop running tasks eagerly) for one test."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)

    def use(url: str) -> Celery:
        _forget_broker_connections()
        celery_app.conf.update(broker_url=url, task_always_eager=False)
        return celery_app

    yield use
    _forget_broker_connections()
    celery_app.conf.update(broker_url=saved[0], task_always_eager=saved[1])


def wait_for(condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.02)


def status_of(summary_id: str) -> str:
    return Summary.objects.values_list("status", flat=True).get(pk=summary_id)


def test_broker_down_is_a_503_and_leaves_no_row(
    provider_client: APIClient,
    viewer_client: APIClient,
    patient: Patient,
    broker: Callable[[str], Celery],
) -> None:
    broker(CLOSED_PORT_BROKER)

    response = provider_client.post(f"/api/v1/patients/{patient.pk}/summaries/", {})

    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert Summary.objects.count() == 0

    reading = viewer_client.get(f"/api/v1/patients/{patient.pk}/summary/")
    assert reading.status_code == 503
    assert reading.json()["code"] == "queue_unavailable"
    assert Summary.objects.count() == 0


def test_broker_down_on_retry_puts_the_job_back_as_failed(
    provider_client: APIClient, patient: Patient, broker: Callable[[str], Celery]
) -> None:
    error = {"code": "provider_unavailable", "message": "HTTP 503"}
    failed = SummaryFactory.create(
        patient=patient, status=SummaryStatus.FAILED, error=error, attempts=4
    )
    broker(CLOSED_PORT_BROKER)

    response = provider_client.post(f"/api/v1/summaries/{failed.pk}/retry/")

    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.attempts) == (SummaryStatus.FAILED, error, 4)


def test_without_a_broker_the_job_runs_within_the_request(
    provider_client: APIClient, patient: Patient
) -> None:
    """The embedded default (`make run`): eager Celery, so POST answers 200 with the result."""
    response = provider_client.post(f"/api/v1/patients/{patient.pk}/summaries/", {})

    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["result"]["heading"]["mrn"] == patient.mrn
    current = provider_client.get(f"/api/v1/patients/{patient.pk}/summary/")
    assert current.status_code == 200
    assert current.json()["id"] == response.json()["id"]


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_runs_a_job_end_to_end(
    provider_client: APIClient, patient: Patient, broker: Callable[[str], Celery], settings: Any
) -> None:
    from celery.contrib.testing.worker import start_worker

    app = broker(os.environ["REDIS_URL"])
    app.control.purge()
    with FakeOpenAI() as fake:
        fake.enqueue("gate")  # the provider answers only when the test says so
        settings.SUMMARY_PROVIDER = "openai"
        settings.OPENAI_API_KEY = "sk-test-worker-0000000000"
        settings.OPENAI_BASE_URL = fake.base_url

        response = provider_client.post(f"/api/v1/patients/{patient.pk}/summaries/", {})
        assert response.status_code == 202
        summary_id = response.json()["id"]
        assert status_of(summary_id) == SummaryStatus.QUEUED  # published, no worker yet

        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            wait_for(lambda: status_of(summary_id) == SummaryStatus.RUNNING)
            assert fake.gate_reached.wait(30)
            assert status_of(summary_id) == SummaryStatus.RUNNING
            fake.open_gate()
            wait_for(lambda: status_of(summary_id) == SummaryStatus.SUCCEEDED)

    job = provider_client.get(f"/api/v1/summaries/{summary_id}/").json()
    assert job["provider"] == "openai"
    assert job["result"]["heading"]["mrn"] == patient.mrn
    assert job["started_at"] <= job["finished_at"]
    # The stock reply lists items this note-less record lacks: asked again once, then kept
    # with them moved to unverified.
    assert len(fake.requests) == 2
    assert job["result"]["unverified"]["medications"] == ["amoxicillin 1 g PO TID"]
