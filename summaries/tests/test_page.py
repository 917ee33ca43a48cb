"""The printable page: GET /api/v1/patients/{id}/summary.html."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from rest_framework.test import APIClient

from patients.models import Patient
from summaries.models import Summary, SummaryStatus
from summaries.tests.conftest import FIRST_NAME, LAST_NAME, add_appointment

pytestmark = pytest.mark.django_db

RunJobs = Callable[[], AbstractContextManager[Any]]


def page_url(patient: Patient, query: str = "") -> str:
    return f"/api/v1/patients/{patient.pk}/summary.html{query}"


def test_page_is_prepared_then_shown(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    add_appointment(patient, reason="Follow-up of blood pressure")
    with run_jobs():
        pending = viewer_client.get(page_url(patient), HTTP_ACCEPT="application/json")
    assert pending.status_code == 202
    assert pending["Content-Type"].startswith("text/html")
    assert pending["Retry-After"] == "5"
    text = pending.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in text
    assert "being prepared" in text

    ready = viewer_client.get(page_url(patient))
    assert ready.status_code == 200
    assert ready["Content-Type"].startswith("text/html")
    html = ready.content.decode()
    assert "http-equiv" not in html
    summary = Summary.objects.get()
    assert f"<h1>{FIRST_NAME} {LAST_NAME}</h1>" in html
    assert patient.mrn in html
    assert patient.date_of_birth.isoformat() in html
    assert "Follow-up of blood pressure" in html
    assert "local (local-rules-v1)" in html
    assert str(summary.pk) in html
    assert "without direct identifiers" in html
    assert "Unverified" not in html
    assert "Out of date" not in html


def test_page_flags_unverified_items_and_staleness(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        viewer_client.get(page_url(patient, "?audience=family&length=brief"))
    summary = Summary.objects.get()
    assert summary.result is not None
    summary.result["unverified"] = {"medications": ["warfarin 5 mg daily"], "diagnoses": []}
    summary.result["narrative"] = "<script>alert(1)</script> Doing well."
    summary.save()
    add_appointment(patient)  # the record changed since

    with run_jobs():
        response = viewer_client.get(
            page_url(patient, "?audience=family&length=brief&allow_stale=1")
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Unverified — not found in the record" in html
    assert "<li>Medication: warfarin 5 mg daily</li>" in html
    assert "Out of date" in html
    assert "<script>alert(1)</script>" not in html  # text from a provider is escaped
    assert "&lt;script&gt;" in html
    assert "Family" in html


def test_page_errors_are_json(
    viewer_client: APIClient, api_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    anonymous = api_client.get(page_url(patient))
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"

    bad = viewer_client.get(page_url(patient, "?length=huge"))
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/json"
    assert bad.json()["errors"][0]["field"] == "length"

    with run_jobs():
        viewer_client.get(page_url(patient))
    Summary.objects.update(
        status=SummaryStatus.FAILED,
        result=None,
        error={"code": "invalid_model_output", "message": "reply is not valid JSON"},
    )
    failed = viewer_client.get(page_url(patient))
    assert failed.status_code == 503
    assert failed.json()["code"] == "summary_failed"


def test_options_on_the_page_is_a_json_405(viewer_client: APIClient, patient: Patient) -> None:
    response = viewer_client.options(page_url(patient))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "method_not_allowed"
