"""``latest_outcome`` on patients: maintained by the services, embedded without an N+1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.tests.factories import PatientFactory
from core.actors import system_actor
from interactions.services import (
    interaction_amend,
    interaction_record,
    interaction_retract,
    latest_outcome_rebuild,
)
from outcomes.models import Outcome
from patients.models import LatestOutcome, Patient

pytestmark = pytest.mark.django_db
PATIENTS = "/api/v1/patients/"


def outcome(code):
    return Outcome.objects.get(pk=code)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def latest(client, patient):
    response = client.get(f"{PATIENTS}{patient.pk}/")
    assert response.status_code == 200
    return response.json()["latest_outcome"]


def test_null_without_interactions_then_the_newest_current_one(viewer_client):
    patient = PatientFactory.create()
    assert latest(viewer_client, patient) is None
    interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("monitor"), occurred_at=ago(days=2)
    )
    newest = interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("critical"), occurred_at=ago(days=1)
    )
    # Recorded later but happened earlier: does not replace the newest.
    interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("healthy"), occurred_at=ago(days=3)
    )
    shown = latest(viewer_client, patient)
    assert shown == {
        "code": "critical",
        "label": "Critical",
        "severity": 2,
        "occurred_at": shown["occurred_at"],
    }
    assert shown["occurred_at"].replace("Z", "+00:00") == newest.occurred_at.isoformat()


def test_follows_amendments_and_retractions(viewer_client):
    patient = PatientFactory.create()
    older = interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("monitor"), occurred_at=ago(days=5)
    )
    newer = interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("healthy"), occurred_at=ago(days=1)
    )
    assert latest(viewer_client, patient)["code"] == "healthy"

    amendment = interaction_amend(
        actor=system_actor(), interaction=newer, outcome=outcome("critical")
    )
    assert latest(viewer_client, patient)["code"] == "critical"

    # An amendment that moves the entry before the other one hands "latest" over.
    moved = interaction_amend(actor=system_actor(), interaction=amendment, occurred_at=ago(days=9))
    assert latest(viewer_client, patient)["code"] == "monitor"

    interaction_retract(actor=system_actor(), interaction=older, reason="Wrong patient")
    assert latest(viewer_client, patient)["code"] == "critical"

    interaction_retract(actor=system_actor(), interaction=moved, reason="Entered in error")
    assert latest(viewer_client, patient) is None


def test_equal_occurred_at_the_later_record_wins():
    patient = PatientFactory.create()
    when = ago(hours=2)
    interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("healthy"), occurred_at=when
    )
    interaction_record(
        actor=system_actor(), patient=patient, outcome=outcome("critical"), occurred_at=when
    )
    assert Patient.objects.get(pk=patient.pk).latest_outcome.code == "critical"


def test_critical_filter(viewer_client):
    critical = PatientFactory.create(last_name="Critical")
    recovered = PatientFactory.create(last_name="Recovered")
    PatientFactory.create(last_name="Never seen")
    interaction_record(
        actor=system_actor(), patient=critical, outcome=outcome("critical"), occurred_at=ago(days=1)
    )
    interaction_record(
        actor=system_actor(),
        patient=recovered,
        outcome=outcome("critical"),
        occurred_at=ago(days=2),
    )
    interaction_record(
        actor=system_actor(), patient=recovered, outcome=outcome("healthy"), occurred_at=ago(days=1)
    )
    response = viewer_client.get(PATIENTS, {"latest_outcome": "critical"})
    assert response.status_code == 200
    assert [p["last_name"] for p in response.json()["results"]] == ["Critical"]
    healthy = viewer_client.get(PATIENTS, {"latest_outcome": "healthy"}).json()["results"]
    assert [p["last_name"] for p in healthy] == ["Recovered"]
    unknown = viewer_client.get(PATIENTS, {"latest_outcome": "nope"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "latest_outcome"


def test_patient_list_embeds_it_without_an_n_plus_1(viewer_client, django_assert_max_num_queries):
    for i in range(12):
        patient = PatientFactory.create()
        if i % 4:
            interaction_record(
                actor=system_actor(),
                patient=patient,
                outcome=outcome(["healthy", "monitor", "critical"][i % 3]),
            )
    counts = {}
    for size in (5, 10):  # both with a next page, so both count
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get(PATIENTS, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = len(queries)
    assert counts[5] == counts[10]
    with django_assert_max_num_queries(counts[10]):
        results = viewer_client.get(PATIENTS, {"page_size": 50}).json()["results"]
    assert len(results) == 12
    assert sum(p["latest_outcome"] is None for p in results) == 3
    # The filter adds one query: it looks the outcome code up (an unknown one is a 400).
    with django_assert_max_num_queries(counts[10] + 1):
        viewer_client.get(PATIENTS, {"page_size": 100, "latest_outcome": "monitor"})


def test_rebuild_restores_what_a_fixture_load_reset():
    patient = PatientFactory.create()
    interaction_record(actor=system_actor(), patient=patient, outcome=outcome("monitor"))
    LatestOutcome.objects.filter(patient=patient).delete()
    assert latest_outcome_rebuild() == 1
    assert Patient.objects.get(pk=patient.pk).latest_outcome.code == "monitor"
