"""The summary endpoints with the local provider: jobs, idempotency, staleness, roles."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.chain import QUERIES_PER_EVENT
from core.permissions import Role
from core.tests.clients import UserClient
from patients.models import Patient
from summaries.engine.limits import word_cap
from summaries.models import Summary, SummaryStatus
from summaries.tests.conftest import DOB, FIRST_NAME, LAST_NAME, add_appointment
from summaries.tests.factories import SummaryFactory

pytestmark = pytest.mark.django_db

RunJobs = Callable[[], AbstractContextManager[Any]]


def summaries_url(patient: Patient) -> str:
    return f"/api/v1/patients/{patient.pk}/summaries/"


def summary_url(patient: Patient, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/patients/{patient.pk}/summary/" + (f"?{params}" if params else "")


def test_post_queues_a_job_that_the_task_completes(
    provider_client: UserClient, patient: Patient, run_jobs: RunJobs
) -> None:
    add_appointment(patient, reason="Blood pressure review")
    with run_jobs():
        response = provider_client.post(
            summaries_url(patient), {"audience": "clinician", "length": "brief"}
        )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["result"] is None
    assert response["Location"].endswith(f"/api/v1/summaries/{body['id']}")
    assert response["Retry-After"] == "5"

    job = provider_client.get(response["Location"]).json()
    assert job["status"] == "succeeded"
    assert job["provider"] == "local"
    assert job["model"] == "local-rules-v1"
    assert job["requested_by"] == provider_client.user.username
    assert job["error"] is None
    assert job["started_at"] and job["finished_at"]
    result = job["result"]
    assert result["heading"] == {
        "name": f"{FIRST_NAME} {LAST_NAME}",
        "age": result["heading"]["age"],
        "date_of_birth": DOB.isoformat(),
        "gender": "female",
        "mrn": patient.mrn,
    }
    assert isinstance(result["heading"]["age"], int)
    assert "Cardiology" in result["narrative"]
    assert any("Blood pressure review" in item for item in result["plan"])
    assert result["sources"] == {"notes": [], "interactions": []}
    assert result["unverified"] == {"medications": [], "diagnoses": []}


def test_defaults_are_clinician_and_standard(
    provider_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        body = provider_client.post(summaries_url(patient), {}).json()
    assert (body["audience"], body["length"]) == ("clinician", "standard")


def test_two_posts_make_one_job_and_a_finished_one_answers_200(
    provider_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    first = provider_client.post(summaries_url(patient), {"length": "brief"})
    second = provider_client.post(summaries_url(patient), {"length": "brief"})
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert Summary.objects.count() == 1

    Summary.objects.filter(pk=first.json()["id"]).delete()
    with run_jobs():
        queued = provider_client.post(summaries_url(patient), {"length": "brief"})
    again = provider_client.post(summaries_url(patient), {"length": "brief"})
    assert again.status_code == 200
    assert again.json()["id"] == queued.json()["id"]
    assert again.json()["status"] == "succeeded"
    assert again["Location"].endswith(queued.json()["id"])
    assert "Retry-After" not in again
    # Other options are another summary.
    other = provider_client.post(summaries_url(patient), {"length": "detailed"})
    assert other.status_code == 202
    assert Summary.objects.count() == 2


def test_current_summary_queues_then_serves_and_goes_stale_when_the_record_changes(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        pending = viewer_client.get(summary_url(patient))
    assert pending.status_code == 202
    assert pending["Retry-After"] == "5"
    assert pending.json()["status"] == "queued"
    assert pending.json()["stale"] is False

    ready = viewer_client.get(summary_url(patient))
    assert ready.status_code == 200
    assert ready.json()["id"] == pending.json()["id"]
    assert ready.json()["status"] == "succeeded"
    assert ready.json()["stale"] is False
    assert ready.json()["result"]["plan"] == []

    add_appointment(patient, reason="New symptoms")  # the record changed

    with run_jobs():
        stale = viewer_client.get(summary_url(patient, allow_stale="true"))
        # allow_stale also queues a fresh summary in the background...
        assert Summary.objects.filter(status=SummaryStatus.QUEUED).count() == 1
    assert stale.status_code == 200
    assert stale.json()["id"] == ready.json()["id"]
    assert stale.json()["stale"] is True

    # ... which is what the next reader gets.
    fresh = viewer_client.get(summary_url(patient))
    assert fresh.status_code == 200
    assert fresh.json()["id"] != ready.json()["id"]
    assert fresh.json()["stale"] is False
    assert any("New symptoms" in item for item in fresh.json()["result"]["plan"])
    assert Summary.objects.count() == 2


def test_without_allow_stale_a_changed_record_means_a_new_job(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        first = viewer_client.get(summary_url(patient)).json()["id"]
    assert viewer_client.get(summary_url(patient)).status_code == 200

    add_appointment(patient)

    response = viewer_client.get(summary_url(patient))
    assert response.status_code == 202
    assert response.json()["id"] != first
    assert response.json()["status"] == "queued"


def test_allow_stale_with_no_summary_at_all_queues_one(
    viewer_client: APIClient, patient: Patient
) -> None:
    response = viewer_client.get(summary_url(patient, allow_stale="true"))
    assert response.status_code == 202
    assert response.json()["stale"] is False


def test_reading_never_requeues_a_failed_job(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        job_id = viewer_client.get(summary_url(patient)).json()["id"]
    Summary.objects.filter(pk=job_id).update(
        status=SummaryStatus.FAILED,
        result=None,
        error={"code": "provider_unavailable", "message": "HTTP 503: overloaded"},
    )

    response = viewer_client.get(summary_url(patient))

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "summary_failed"
    assert body["summary_id"] == job_id
    assert body["error"] == {"code": "provider_unavailable", "message": "HTTP 503: overloaded"}
    assert Summary.objects.count() == 1


def test_retry_requeues_a_failed_job_and_only_a_failed_one(
    provider_client: APIClient, viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    failed = SummaryFactory.create(
        patient=patient,
        status=SummaryStatus.FAILED,
        error={"code": "timed_out", "message": "Still running after 15 minutes."},
        attempts=2,
    )
    url = f"/api/v1/summaries/{failed.pk}/retry/"
    assert viewer_client.post(url).status_code == 403

    with run_jobs():
        response = provider_client.post(url)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["error"] is None

    failed.refresh_from_db()
    assert failed.status == SummaryStatus.SUCCEEDED
    assert failed.result is not None
    assert failed.result["heading"]["mrn"] == patient.mrn

    conflict = provider_client.post(url)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "summary_not_failed"


def test_local_summaries_differ_by_audience_and_length(
    provider_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    add_appointment(patient, reason="Follow-up of blood pressure")
    add_appointment(patient, days=9, reason="Test results")
    narratives = {}
    for audience in ("clinician", "family", "patient"):
        for length in ("brief", "detailed"):
            with run_jobs():
                provider_client.post(
                    summaries_url(patient), {"audience": audience, "length": length}
                )
            summary = Summary.objects.get(audience=audience, length=length)
            assert summary.status == SummaryStatus.SUCCEEDED
            assert summary.result is not None
            narratives[audience, length] = summary.result["narrative"]

    assert len(set(narratives.values())) == 6
    clinician = narratives["clinician", "brief"]
    assert clinician.endswith("Next appointment: " + clinician.split("Next appointment: ")[1])
    assert "-year-old female." in clinician
    assert "Your" not in clinician
    assert "Upcoming:" in narratives["clinician", "detailed"]
    assert "Test results" in narratives["clinician", "detailed"]
    assert "Test results" not in clinician
    assert narratives["family", "brief"].startswith("Your family member is a ")
    assert "for follow-up of blood pressure" in narratives["family", "brief"]
    assert narratives["patient", "brief"].startswith("You are ")
    assert "Your next appointment is on" in narratives["patient", "brief"]
    for audience in ("clinician", "family", "patient"):
        brief = len(narratives[audience, "brief"].split())
        assert brief <= word_cap("brief")
        assert len(narratives[audience, "detailed"].split()) > brief


def test_list_is_per_patient_newest_first_and_filterable(
    viewer_client: APIClient, patient: Patient, django_assert_max_num_queries: Any
) -> None:
    older = SummaryFactory.create(patient=patient, status=SummaryStatus.FAILED)
    newer = SummaryFactory.create(patient=patient, length="brief")
    SummaryFactory.create()  # another patient's
    for _ in range(5):
        SummaryFactory.create(patient=patient, audience="family")

    with django_assert_max_num_queries(8 + QUERIES_PER_EVENT):
        page = viewer_client.get(summaries_url(patient), {"page_size": 100}).json()
    assert page["count"] == 7
    ids = [row["id"] for row in page["results"]]
    assert ids.index(str(newer.pk)) < ids.index(str(older.pk))

    failed = viewer_client.get(summaries_url(patient), {"status": "failed"}).json()
    assert [row["id"] for row in failed["results"]] == [str(older.pk)]
    assert viewer_client.get(summaries_url(patient), {"audience": "family"}).json()["count"] == 5
    assert viewer_client.get(summaries_url(patient), {"status": "nope"}).status_code == 400


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"audience": "doctor"}, "audience"),
        ({"length": "long"}, "length"),
        ({"audience": "family", "tone": "warm"}, "tone"),
    ],
)
def test_bad_input_is_a_400_per_field(
    provider_client: APIClient, patient: Patient, payload: dict[str, str], field: str
) -> None:
    response = provider_client.post(summaries_url(patient), payload)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert Summary.objects.count() == 0


def test_bad_query_and_unknown_ids(viewer_client: APIClient, patient: Patient) -> None:
    bad = viewer_client.get(summary_url(patient, audience="everyone"))
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "audience"
    unknown = "5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11"
    for path in (
        f"/api/v1/patients/{unknown}/summary/",
        f"/api/v1/patients/{unknown}/summary.html",
        f"/api/v1/patients/{unknown}/summaries/",
        f"/api/v1/summaries/{unknown}/",
    ):
        response = viewer_client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert (
        viewer_client.get(f"/api/v1/patients/{patient.pk}/summaries/not-a-uuid/").status_code == 404
    )


@pytest.mark.parametrize(
    ("role", "can_request"),
    [(Role.VIEWER, False), (Role.PROVIDER, True), (Role.ADMIN, True)],
)
def test_role_matrix(
    client_for: Callable[[Role], APIClient], patient: Patient, role: Role, can_request: bool
) -> None:
    client = client_for(role)
    existing = SummaryFactory.create(patient=patient, status=SummaryStatus.FAILED)

    post = client.post(summaries_url(patient), {})
    assert post.status_code == (202 if can_request else 403)
    retry = client.post(f"/api/v1/summaries/{existing.pk}/retry/")
    assert retry.status_code == (202 if can_request else 403)
    if not can_request:
        assert post.json()["code"] == "permission_denied"
    # Every role reads, and reading may queue a job.
    assert client.get(summaries_url(patient)).status_code == 200
    assert client.get(f"/api/v1/summaries/{existing.pk}/").status_code == 200
    assert client.get(summary_url(patient, length="brief")).status_code == 202
    assert (
        client.get(f"/api/v1/patients/{patient.pk}/summary.html?length=detailed").status_code == 202
    )
    # No role may change or delete a summary through the API (a Viewer is refused first).
    refused = 405 if can_request else 403
    assert client.delete(f"/api/v1/summaries/{existing.pk}/").status_code == refused
    assert client.patch(f"/api/v1/summaries/{existing.pk}/", {}).status_code == refused


def test_summaries_are_deleted_with_their_patient(
    admin_client_api: APIClient, run_jobs: RunJobs
) -> None:
    from patients.tests.factories import PatientFactory

    patient = PatientFactory.create()
    with run_jobs():
        admin_client_api.post(summaries_url(patient), {})
    assert Summary.objects.filter(patient=patient).count() == 1

    response = admin_client_api.delete(f"/api/v1/patients/{patient.pk}/")

    assert response.status_code == 204
    assert Summary.objects.count() == 0
