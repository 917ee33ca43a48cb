"""The whole flow through the real ``openai`` client against a fake OpenAI-compatible
server on 127.0.0.1 (OPENAI_BASE_URL), from the API request to the stored summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from rest_framework.test import APIClient

from patients.models import Patient
from summaries.engine import PROMPT_VERSION
from summaries.models import Summary, SummaryStatus
from summaries.tests.conftest import (
    API_KEY,
    DOB,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    add_appointment,
)
from summaries.tests.fake_openai import FakeOpenAI, ok

pytestmark = pytest.mark.django_db

RunJobs = Callable[[], AbstractContextManager[Any]]

GROUNDED_REPLY: dict[str, Any] = {
    "narrative": "[PATIENT] is followed for blood pressure; review with cardiology is booked.",
    "diagnoses": [],
    "medications": [],
    "allergies": [],
    "observations": [],
    "plan": ["Cardiology follow-up of blood pressure"],
}


def request_summary(client: APIClient, patient: Patient, run_jobs: RunJobs) -> Summary:
    with run_jobs():
        response = client.post(
            f"/api/v1/patients/{patient.pk}/summaries/", {"audience": "clinician"}
        )
    assert response.status_code == 202
    return Summary.objects.get(pk=response.json()["id"])


@pytest.fixture
def identified_patient(patient: Patient) -> Patient:
    """The patient's own identifiers written into free text that goes to the provider."""
    add_appointment(
        patient,
        reason=(
            f"Follow-up of blood pressure for {FIRST_NAME} {LAST_NAME} ({patient.mrn}), "
            f"born {DOB:%m/%d/%Y}; call 415-555-2671 or write to {EMAIL}."
        ),
    )
    return patient


def test_request_is_deidentified_and_carries_the_record(
    provider_client: APIClient,
    identified_patient: Patient,
    fake_openai: FakeOpenAI,
    run_jobs: RunJobs,
) -> None:
    fake_openai.enqueue(ok(GROUNDED_REPLY, usage=(900, 120)))

    summary = request_summary(provider_client, identified_patient, run_jobs)

    [request] = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"]["type"] == "json_schema"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "Follow-up of blood pressure for [PATIENT] ([MRN])" in user
    assert "Cardiology" in user
    raw = request.raw_body
    for identifier in (
        FIRST_NAME,
        LAST_NAME,
        identified_patient.mrn,
        identified_patient.mrn.split("-")[1],
        EMAIL,
        DOB.isoformat(),
        f"{DOB:%m/%d/%Y}",
        "555-2671",
        "4155552671",
        str(identified_patient.pk),
    ):
        assert identifier.lower() not in raw.lower(), identifier

    assert summary.status == SummaryStatus.SUCCEEDED
    assert summary.provider == "openai"
    assert summary.model == "gpt-4o-mini"
    assert summary.prompt_version == PROMPT_VERSION
    assert summary.usage == {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020}
    assert summary.attempts == 1
    assert summary.result is not None
    # The heading comes from the database, with the real identifiers.
    assert summary.result["heading"]["name"] == f"{FIRST_NAME} {LAST_NAME}"
    assert summary.result["heading"]["mrn"] == identified_patient.mrn
    assert summary.result["plan"] == ["Cardiology follow-up of blood pressure"]


def test_without_deidentification_the_name_is_sent(
    provider_client: APIClient,
    identified_patient: Patient,
    fake_openai: FakeOpenAI,
    run_jobs: RunJobs,
    settings: Any,
) -> None:
    settings.SUMMARY_DEIDENTIFY = False
    fake_openai.enqueue(ok(GROUNDED_REPLY))

    summary = request_summary(provider_client, identified_patient, run_jobs)

    assert FIRST_NAME in fake_openai.requests[0].raw_body
    assert summary.deidentified is False
    assert summary.status == SummaryStatus.SUCCEEDED


def test_rate_limited_then_success(
    provider_client: APIClient, patient: Patient, fake_openai: FakeOpenAI, run_jobs: RunJobs
) -> None:
    fake_openai.enqueue("status:429", ok(GROUNDED_REPLY))

    summary = request_summary(provider_client, patient, run_jobs)

    assert [r.behaviour for r in fake_openai.requests] == ["status", "ok"]
    assert summary.status == SummaryStatus.SUCCEEDED
    assert summary.attempts == 2


def test_server_errors_until_retries_run_out(
    provider_client: APIClient,
    viewer_client: APIClient,
    patient: Patient,
    fake_openai: FakeOpenAI,
    run_jobs: RunJobs,
    settings: Any,
) -> None:
    settings.SUMMARY_MAX_RETRIES = 2
    fake_openai.enqueue("status:500", "status:500", "status:500", "status:500")

    summary = request_summary(provider_client, patient, run_jobs)

    assert len(fake_openai.requests) == 3  # the first call and two retries
    assert summary.status == SummaryStatus.FAILED
    assert summary.attempts == 3
    assert summary.result is None
    assert summary.error is not None
    assert summary.error["code"] == "provider_unavailable"
    assert "HTTP 500" in summary.error["message"]
    assert API_KEY not in json.dumps(summary.error)

    job = provider_client.get(f"/api/v1/summaries/{summary.pk}/").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "provider_unavailable"
    current = viewer_client.get(f"/api/v1/patients/{patient.pk}/summary/")
    assert current.status_code == 503
    assert current.json()["code"] == "summary_failed"


def test_timeout(
    provider_client: APIClient,
    patient: Patient,
    fake_openai: FakeOpenAI,
    run_jobs: RunJobs,
    settings: Any,
) -> None:
    settings.SUMMARY_TIMEOUT_SECONDS = 0.3
    settings.SUMMARY_MAX_RETRIES = 0
    fake_openai.enqueue("sleep:5")

    summary = request_summary(provider_client, patient, run_jobs)

    assert summary.status == SummaryStatus.FAILED
    assert summary.error == {
        "code": "provider_timeout",
        "message": "no reply within 0.3s (gave up after 1 attempts)",
    }


def test_malformed_reply_is_retried_once_then_fails(
    provider_client: APIClient, patient: Patient, fake_openai: FakeOpenAI, run_jobs: RunJobs
) -> None:
    fake_openai.enqueue("malformed", "malformed")

    summary = request_summary(provider_client, patient, run_jobs)

    assert len(fake_openai.requests) == 2
    assert summary.status == SummaryStatus.FAILED
    assert summary.error is not None
    assert summary.error["code"] == "invalid_model_output"


def test_bad_request_fails_at_once_without_leaking_the_key(
    provider_client: APIClient, patient: Patient, fake_openai: FakeOpenAI, run_jobs: RunJobs
) -> None:
    fake_openai.enqueue("status:400")  # the fake echoes the bearer token in its message

    summary = request_summary(provider_client, patient, run_jobs)

    assert len(fake_openai.requests) == 1
    assert summary.error is not None
    assert summary.error["code"] == "provider_error"
    assert API_KEY not in json.dumps(summary.error)
    assert "[REDACTED]" in summary.error["message"]


def test_hallucinated_medication_lands_in_unverified(
    provider_client: APIClient, patient: Patient, fake_openai: FakeOpenAI, run_jobs: RunJobs
) -> None:
    # Nothing in this record mentions a medication or a diagnosis (grounding reads the
    # notes; this branch has none), so whatever the model lists is unverified.
    add_appointment(patient, reason="Follow-up of blood pressure")
    hallucinated = ok(
        {
            **GROUNDED_REPLY,
            "diagnoses": ["Atrial fibrillation"],
            "medications": ["warfarin 5 mg daily"],
        }
    )
    fake_openai.enqueue(hallucinated, hallucinated)  # asked again once, the second is kept

    summary = request_summary(provider_client, patient, run_jobs)
    assert len(fake_openai.requests) == 2

    assert summary.status == SummaryStatus.SUCCEEDED
    assert summary.result is not None
    assert summary.result["medications"] == []
    assert summary.result["diagnoses"] == []
    assert summary.result["unverified"] == {
        "medications": ["warfarin 5 mg daily"],
        "diagnoses": ["Atrial fibrillation"],
    }
    page = provider_client.get(f"/api/v1/patients/{patient.pk}/summary.html").content.decode()
    assert "<li>Medication: warfarin 5 mg daily</li>" in page
    assert "<li>Diagnosis: Atrial fibrillation</li>" in page
