"""One clinical fold: the clinical-data endpoint's picture and the offline summary's lists
come from the same notes through the same function, so they never disagree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notes.clinical_data import patient_clinical_data
from notes.services import note_create_from_text
from notes.tests.factories import provider_user
from patients.models import Patient
from summaries.engine import ProviderConfig, SummaryOptions, generate_summary
from summaries.record import build_record

pytestmark = pytest.mark.django_db

NOTES = (
    (
        5,
        "Admission H&P\nHPI: 71 yo with h/o MI s/p PCI.\nFHx: mother with breast cancer.\n"
        "Meds: metoprolol 25 mg PO BID, lisinopril 10 mg PO daily, metformin 500 mg PO BID.\n"
        "Allergies: penicillin (hives).\nVitals: BP 150/95, HR 100, T 38.4 C, Wt 80 kg.\n"
        "Assessment:\n1. Community-acquired pneumonia\n2. HTN\n3. DM2\n"
        "4. Chest pain, concern for acute coronary syndrome\nPlan: start ceftriaxone 1 g IV daily.",
    ),
    (
        2,
        "S: feels better. O: BP 128/80, HR 78. A: pneumonia improving; HTN, controlled. "
        "P: stop lisinopril (cough), hold metformin, continue metoprolol 50 mg PO BID.",
    ),
    (
        1,
        "Telephone encounter. Spoke with the patient. Return if fever recurs. "
        "Start amoxicillin 1 g PO TID. Watch for signs of dehydration.",
    ),
)


def test_endpoint_and_offline_summary_fold_the_same_notes_the_same_way(
    patient: Patient, django_capture_on_commit_callbacks: Any
) -> None:
    author = provider_user()
    now = timezone.now()
    for days_ago, text in NOTES:
        with django_capture_on_commit_callbacks(execute=True):  # the reading runs after commit
            note_create_from_text(
                patient=patient,
                actor=author,
                content=text,
                taken_at=now - timedelta(days=days_ago),
            )
    picture = patient_clinical_data(patient)
    summary = generate_summary(
        build_record(patient, now=now),
        SummaryOptions(audience="clinician", deidentify=True),
        ProviderConfig(provider="local"),
    )

    # The same active medications, with the same attributes (held and stopped ones left out).
    assert [m["name"] for m in picture["medications"]] == [
        "amoxicillin",
        "ceftriaxone",
        "metoprolol",
    ]
    assert summary.medications == [
        " ".join(p for p in (m["name"], m["dose"], m["route"], m["frequency"]) if p)
        for m in picture["medications"]
    ]
    assert [m["name"] for m in picture["held_medications"]] == ["metformin"]
    # The same conditions, each once, worded as the newest note has it; the uncertain one is
    # marked as possible; the relative's and the past ones are not the patient's current list.
    texts = {d["text"] for d in picture["diagnoses"]}
    assert texts == {
        "pneumonia improving",
        "HTN, controlled",
        "DM2",
        "Chest pain",
        "acute coronary syndrome",
    }
    expected = [
        f"possible {d['text']}" if d["certainty"] == "uncertain" else d["text"]
        for d in sorted(picture["diagnoses"], key=lambda d: d["first_noted_at"])
    ]
    assert sorted(summary.diagnoses) == sorted(expected)
    assert "possible acute coronary syndrome" in summary.diagnoses
    assert not any("breast cancer" in d for d in summary.diagnoses)
    assert [d["text"] for d in picture["past_diagnoses"]] == ["MI"]
    # The same allergies and flag; the latest vitals in the narrative.
    assert summary.allergies == ["penicillin (hives)"]
    assert picture["no_known_allergies"] is False
    assert picture["vitals"]["systolic_bp"]["value"] == 128
    assert "BP 128/80 mmHg" in summary.narrative
    assert "No diagnoses recorded" not in summary.narrative


def test_summary_dates_and_times_are_in_the_clinic_time_zone(
    patient: Patient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLINIC_TIME_ZONE = "America/New_York"
    author = provider_user()
    # 02:30 UTC on 2 December is still 1 December in New York.
    taken_at = timezone.now().replace(microsecond=0) - timedelta(days=3)
    taken_at = taken_at.replace(hour=2, minute=30)
    with django_capture_on_commit_callbacks(execute=True):
        note_create_from_text(
            patient=patient, actor=author, content="Progress note. BP 150/90.", taken_at=taken_at
        )
    record = build_record(patient, now=timezone.now())
    local_day = taken_at.astimezone(ZoneInfo("America/New_York")).date()
    assert local_day != taken_at.date()
    summary = generate_summary(
        record, SummaryOptions(audience="clinician"), ProviderConfig(provider="local")
    )
    assert f"Most recent vitals ({local_day.isoformat()})" in summary.narrative
