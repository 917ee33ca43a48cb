"""Summaries built from the clinical record: notes and interactions reach the provider
(de-identified), retracted ones do not, grounding checks the notes, and a new note makes
the stored summary stale."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import system_actor
from interactions.services import interaction_record, interaction_retract
from notes.models import Note
from notes.services import note_create_from_text, note_retract
from notes.tests.factories import provider_user
from outcomes.models import Outcome
from patients.models import Patient
from summaries.models import Summary, SummaryStatus
from summaries.tests.conftest import FIRST_NAME, LAST_NAME
from summaries.tests.fake_openai import FakeOpenAI, ok

pytestmark = pytest.mark.django_db

RunJobs = Callable[[], AbstractContextManager[Any]]

NOTE = (
    f"S: {FIRST_NAME} {LAST_NAME} reports palpitations for two days.\n"
    "O: BP 148/92, HR 104, SpO2 97%.\n"
    "A: Paroxysmal atrial fibrillation. No chest pain.\n"
    "P: Start metoprolol 25 mg PO BID. Holter monitor."
)


def _note(patient: Patient, content: str, *, hours_ago: int = 2) -> Note:
    return note_create_from_text(
        patient=patient,
        actor=provider_user(),
        taken_at=timezone.now() - timedelta(hours=hours_ago),
        content=content,
    )


def _summary_url(patient: Patient, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/patients/{patient.pk}/summary/" + (f"?{query}" if query else "")


def test_notes_and_interactions_reach_the_provider_deidentified_and_grounded(
    provider_client: APIClient, patient: Patient, fake_openai: FakeOpenAI, run_jobs: RunJobs
) -> None:
    with run_jobs():
        note = _note(patient, NOTE)
    retracted = _note(patient, "Wrong chart: started warfarin 5 mg daily.", hours_ago=5)
    note_retract(note=retracted, actor=provider_user(), reason="Wrong patient.")
    interaction = interaction_record(
        actor=system_actor(),
        patient=patient,
        outcome=Outcome.objects.get(code="monitor"),
        notes="Palpitations call.",
    )
    gone = interaction_record(
        actor=system_actor(),
        patient=patient,
        outcome=Outcome.objects.get(code="critical"),
        notes="Duplicate entry.",
    )
    interaction_retract(actor=system_actor(), interaction=gone, reason="Duplicate")
    with_warfarin = ok(
        {
            "narrative": "Palpitations with paroxysmal AF; rate control started.",
            "diagnoses": ["Paroxysmal atrial fibrillation"],
            "medications": ["metoprolol 25 mg PO BID", "warfarin 5 mg daily"],
            "allergies": [],
            "observations": ["BP 148/92, HR 104"],
            "plan": ["Holter monitor"],
        }
    )
    # warfarin is not in the record: the reply is asked for again once, the second kept.
    fake_openai.enqueue(with_warfarin, with_warfarin)

    with run_jobs():
        response = provider_client.post(f"/api/v1/patients/{patient.pk}/summaries/", {})
    assert response.status_code == 202
    summary = Summary.objects.get(pk=response.json()["id"])

    request, again = fake_openai.requests
    assert again.body == request.body
    user = request.body["messages"][1]["content"]
    assert "metoprolol 25 mg PO BID" in user
    assert "Paroxysmal atrial fibrillation" in user
    assert "Palpitations call." in user
    assert "[PATIENT] reports palpitations" in user
    for absent in (FIRST_NAME, LAST_NAME, "warfarin", "Duplicate entry."):
        assert absent.lower() not in request.raw_body.lower(), absent

    assert summary.status == SummaryStatus.SUCCEEDED
    assert summary.result is not None
    assert summary.result["medications"] == ["metoprolol 25 mg PO BID"]
    assert summary.result["unverified"]["medications"] == ["warfarin 5 mg daily"]
    assert summary.result["diagnoses"] == ["Paroxysmal atrial fibrillation"]
    assert summary.result["sources"]["notes"] == [str(note.pk)]
    assert summary.result["sources"]["interactions"] == [str(interaction.pk)]


def test_a_new_note_makes_the_summary_stale(
    viewer_client: APIClient, patient: Patient, run_jobs: RunJobs
) -> None:
    with run_jobs():
        _note(patient, NOTE)
    with run_jobs():
        first = viewer_client.get(_summary_url(patient))
    assert first.status_code == 202
    ready = viewer_client.get(_summary_url(patient))
    assert ready.status_code == 200
    assert "metoprolol" in " ".join(ready.json()["result"]["medications"])

    with run_jobs():
        _note(
            patient, "S: feels better.\nA: AF, rate controlled.\nP: stop metoprolol.", hours_ago=1
        )

    stale = viewer_client.get(_summary_url(patient, allow_stale="true"))
    assert stale.status_code == 200
    assert stale.json()["id"] == ready.json()["id"]
    assert stale.json()["stale"] is True
    fresh = viewer_client.get(_summary_url(patient))
    assert fresh.status_code == 202
    assert fresh.json()["id"] != ready.json()["id"]
