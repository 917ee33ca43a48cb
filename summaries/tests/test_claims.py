"""A running job whose claim expired (its worker was lost) counts as failed: it can be
retried, and a new request does not reuse it. The live version (a worker SIGKILLed
mid-summary, then redelivery) is in faults/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from patients.models import Patient
from summaries.models import Summary, SummaryStatus
from summaries.services import claim_lease
from summaries.tests.factories import SummaryFactory

pytestmark = pytest.mark.django_db


def claimed(seconds_ago: float) -> dict[str, object]:
    return {
        "status": SummaryStatus.RUNNING,
        "started_at": timezone.now() - timedelta(seconds=seconds_ago),
    }


def test_retry_takes_a_running_job_whose_claim_expired_but_not_a_live_one(
    provider_client: APIClient, patient: Patient
) -> None:
    lease = claim_lease().total_seconds()
    live = SummaryFactory.create(patient=patient, **claimed(lease - 30))
    lost = SummaryFactory.create(patient=patient, **claimed(lease + 1))

    refused = provider_client.post(f"/api/v1/summaries/{live.pk}/retry/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "summary_not_failed"

    response = provider_client.post(f"/api/v1/summaries/{lost.pk}/retry/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    lost.refresh_from_db()
    assert (lost.status, lost.started_at) == (SummaryStatus.QUEUED, None)


def test_a_new_request_does_not_reuse_a_job_whose_claim_expired(
    provider_client: APIClient, patient: Patient
) -> None:
    url = f"/api/v1/patients/{patient.pk}/summaries/"
    first = provider_client.post(url, {})  # queued; on_commit never runs in this test
    assert first.status_code == 202
    job = Summary.objects.get(pk=first.json()["id"])

    Summary.objects.filter(pk=job.pk).update(**claimed(claim_lease().total_seconds() - 30))
    assert provider_client.post(url, {}).json()["id"] == str(job.pk)  # live claim: shared

    Summary.objects.filter(pk=job.pk).update(**claimed(claim_lease().total_seconds() + 1))
    fresh = provider_client.post(url, {})
    assert fresh.status_code == 202
    assert fresh.json()["id"] != str(job.pk)
    assert Summary.objects.count() == 2
