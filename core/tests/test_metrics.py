"""/metrics: content, domain counters that move, and access control."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.services import appointment_book
from core.actors import system_actor
from doctors.tests.factories import DoctorFactory
from patients.tests.factories import PatientFactory


def _value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` in the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def _scrape(client: APIClient) -> str:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


@pytest.mark.django_db
def test_request_metrics_by_route_and_status(viewer_client: APIClient) -> None:
    route = "/api/v1/patients/"
    before = _scrape(viewer_client)
    viewer_client.get("/api/v1/patients/")
    viewer_client.get("/api/v1/patients/?page_size=500")
    after = _scrape(viewer_client)
    for status in ("200", "400"):
        delta = _value(
            after, "clinic_http_requests_total", route=route, method="GET", status=status
        ) - _value(before, "clinic_http_requests_total", route=route, method="GET", status=status)
        assert delta == 1
    assert (
        _value(after, "clinic_http_request_duration_seconds_count", route=route, method="GET") >= 2
    )
    assert _value(after, "clinic_db_queries_total", route=route) > _value(
        before, "clinic_db_queries_total", route=route
    )


@pytest.mark.django_db
def test_domain_counters_move_with_bookings(
    api_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    doctor = DoctorFactory.create()
    start = timezone.now() + timedelta(days=2)
    before = _scrape(api_client)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(
            actor=system_actor(),
            patient=PatientFactory.create(),
            doctor=doctor,
            start_time=start,
            duration_minutes=30,
        )
    with pytest.raises(Exception, match="overlaps"):
        appointment_book(
            actor=system_actor(),
            patient=PatientFactory.create(),
            doctor=doctor,
            start_time=start,
            duration_minutes=30,
        )
    after = _scrape(api_client)
    assert (
        _value(after, "clinic_appointments_booked_total")
        - _value(before, "clinic_appointments_booked_total")
        == 1
    )
    assert (
        _value(after, "clinic_appointment_conflicts_total", kind="doctor")
        - _value(before, "clinic_appointment_conflicts_total", kind="doctor")
        == 1
    )


@pytest.mark.django_db
def test_metrics_refused_outside_allowed_networks_without_token(
    api_client: APIClient, settings
) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert api_client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    wrong = api_client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    ok = api_client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    assert ok.status_code == 200
    assert b"clinic_http_requests_total" in ok.content


@pytest.mark.django_db
def test_metrics_token_unset_means_networks_only(api_client: APIClient, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert (
        api_client.get(
            "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer "
        ).status_code
        == 403
    )
    assert api_client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
def test_interactions_counted_by_outcome(
    api_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    from interactions.services import interaction_record
    from outcomes.models import Outcome

    before = _scrape(api_client)
    with django_capture_on_commit_callbacks(execute=True):
        interaction_record(
            actor=system_actor(),
            patient=PatientFactory.create(),
            outcome=Outcome.objects.get(code="critical"),
            notes="",
        )
    after = _scrape(api_client)
    delta = _value(after, "clinic_interactions_recorded_total", outcome="critical") - _value(
        before, "clinic_interactions_recorded_total", outcome="critical"
    )
    assert delta == 1


@pytest.mark.django_db
def test_notes_processed_counted_by_status(
    provider_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    patient = PatientFactory.create()
    before = _scrape(provider_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client.post(
            f"/api/v1/patients/{patient.pk}/notes/",
            {
                "taken_at": timezone.now().isoformat(),
                "content": "S: cough.\nA: bronchitis.\nP: fluids.",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    after = _scrape(provider_client)
    delta = _value(after, "clinic_notes_processed_total", status="done") - _value(
        before, "clinic_notes_processed_total", status="done"
    )
    assert delta == 1


@pytest.mark.django_db
def test_summaries_counted_by_provider_and_status(
    provider_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    patient = PatientFactory.create()
    before = _scrape(provider_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client.post(f"/api/v1/patients/{patient.pk}/summaries/", {})
    assert response.status_code == 202
    after = _scrape(provider_client)
    delta = _value(after, "clinic_summaries_total", provider="local", status="succeeded") - _value(
        before, "clinic_summaries_total", provider="local", status="succeeded"
    )
    assert delta == 1
    assert _value(after, "clinic_summary_generation_seconds_count", provider="local") >= 1


@pytest.mark.redis
@pytest.mark.django_db
def test_queue_length_is_the_brokers_backlog(api_client: APIClient, settings) -> None:
    """The gauge the worker autoscaler reads: the Redis list length of each queue."""
    import os

    import redis as redis_lib

    from config.celery_app import app

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    queue = app.conf.task_default_queue
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"])
    backlog = client.llen(queue)
    try:
        client.rpush(queue, *[f"message-{i}" for i in range(7)])
        text = _scrape(api_client)
        assert _value(text, "clinic_celery_broker_up") == 1
        assert _value(text, "clinic_celery_queue_length", queue=queue) == backlog + 7
    finally:
        for i in range(7):
            client.lrem(queue, 0, f"message-{i}")


@pytest.mark.django_db
def test_queue_length_when_the_broker_is_down(api_client: APIClient, settings) -> None:
    """A broker that does not answer leaves /metrics serving, with broker_up 0."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9599/0"  # nothing listens there
    text = _scrape(api_client)
    assert "clinic_celery_broker_up 0.0" in text
    assert "clinic_celery_queue_length{" not in text
