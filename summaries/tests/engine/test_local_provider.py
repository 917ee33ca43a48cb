from __future__ import annotations

import copy
from typing import Any

from summaries.engine import ProviderConfig, SummaryOptions, generate_summary
from summaries.engine.record import PatientRecord
from summaries.tests.engine.sample import EMAIL, FIRST_NAME, LAST_NAME, MRN, empty_record

LOCAL = ProviderConfig(provider="local")


def summary(record: PatientRecord, **options: object) -> str:
    return generate_summary(record, SummaryOptions(**options), LOCAL).narrative  # type: ignore[arg-type]


def test_clinician_summary_is_clinical_and_complete(record: PatientRecord) -> None:
    result = generate_summary(record, SummaryOptions(audience="clinician"), LOCAL)

    text = result.narrative
    assert text.startswith("62-year-old female.")
    assert "Active problems: Community-acquired pneumonia; Type 2 diabetes; Hypertension." in text
    assert "Most recent vitals (2026-11-20): BP 128/82 mmHg, HR 88/min, T 38.1 °C (fever)" in text
    assert "lisinopril 10 mg PO daily" in text
    current = text.split("Current medications: ", 1)[1].split(" (", 1)[0]
    assert "ibuprofen" not in current  # stopped in the newer note
    assert "(since the previous note: started lisinopril 10 mg PO daily, stopped ibuprofen)" in text
    assert "Admitted (2026-11-18) → Monitor (2026-11-21), improving" in text
    assert "Next appointment: 2026-11-25 with cardiology." in text

    assert result.diagnoses == ["Community-acquired pneumonia", "Type 2 diabetes", "Hypertension"]
    assert result.medications == [  # the clinical fold lists them by name
        "amoxicillin 1 g PO TID",
        "lisinopril 10 mg PO daily",
        "metformin 500 mg PO BID",
    ]
    assert result.allergies == ["sulfa drugs (rash)"]
    assert result.observations[0] == (
        "2026-11-20: BP 128/82 mmHg, HR 88/min, T 38.1 °C (fever), SpO2 94%"
    )
    # Older readings only list what was abnormal.
    assert result.observations[1] == (
        "2026-11-18: BP 146/92 mmHg (high), HR 112/min (high), T 38.9 °C (fever), SpO2 91% (low)"
    )
    assert result.plan == [
        "Continue amoxicillin 1 g PO TID to complete 7 days",
        "Stop ibuprofen",
        "Repeat CXR in 6 weeks",
        "2026-11-25 10:00 UTC — Cardiology (Dr. Lindqvist): follow-up of blood pressure",
    ]
    assert result.unverified == {"medications": [], "diagnoses": []}
    assert result.provider == "local" and result.usage is None and result.attempts == 1


def test_audiences_differ_and_patient_is_addressed_as_you(record: PatientRecord) -> None:
    clinician = summary(record, audience="clinician")
    family = summary(record, audience="family")
    patient = summary(record, audience="patient")

    assert len({clinician, family, patient}) == 3
    assert patient.startswith("You are 62 years old.")
    assert " you " in f" {patient.lower()} " and "your blood pressure was 128 over 82" in patient
    assert "their blood pressure was 128 over 82" in family
    for lay in (family, patient):
        assert "high blood pressure" in lay
        assert "a lung infection (pneumonia)" in lay
        assert "type 2 diabetes (high blood sugar)" in lay
        assert "amoxicillin 1 g by mouth, three times a day" in lay
        assert " PO" not in lay and "TID" not in lay
        assert " PO " not in lay and "BP " not in lay
    assert "Hypertension" in clinician and "PO TID" in clinician


def test_lay_lists_use_plain_words_and_stay_verified(record: PatientRecord) -> None:
    result = generate_summary(record, SummaryOptions(audience="patient"), LOCAL)
    assert result.diagnoses == [
        "Lung infection (pneumonia)",
        "Type 2 diabetes (high blood sugar)",
        "High blood pressure (hypertension)",
    ]
    assert result.unverified == {"medications": [], "diagnoses": []}
    assert "Repeat chest X-ray in 6 weeks" in result.plan


def test_lengths_grow_from_brief_to_detailed(record: PatientRecord) -> None:
    for audience in ("clinician", "family", "patient"):
        brief = summary(record, audience=audience, length="brief")
        standard = summary(record, audience=audience, length="standard")
        detailed = summary(record, audience=audience, length="detailed")
        assert len(brief.split()) < len(standard.split()) < len(detailed.split())
        assert len(brief.split()) <= 80
        assert len(standard.split()) <= 200
        assert len(detailed.split()) <= 450
    clinician_detailed = summary(record, length="detailed")
    assert "Pending plan: Continue amoxicillin" in clinician_detailed
    assert "2026-11-18 admission: The patient presents with" in clinician_detailed
    assert "Plan:" not in summary(record, length="standard")


def test_local_output_contains_no_placeholders_or_identifiers(record: PatientRecord) -> None:
    for audience in ("clinician", "family", "patient"):
        text = summary(record, audience=audience, length="detailed")
        for token in ("[PATIENT]", "[MRN]", "[DOB]", "[PHONE]", "[EMAIL]"):
            assert token not in text
        for identifier in (FIRST_NAME, LAST_NAME, MRN, EMAIL):
            assert identifier not in text


def test_deterministic(record: PatientRecord) -> None:
    options = SummaryOptions(audience="family", length="detailed")
    first = generate_summary(record, options, LOCAL).as_dict()
    second = generate_summary(copy.deepcopy(record), options, LOCAL).as_dict()
    assert first == second


def test_empty_record_is_honest() -> None:
    record = empty_record()
    result = generate_summary(record, SummaryOptions(), LOCAL)
    assert result.narrative == (
        "62-year-old female. No clinical notes on file. No documented interactions."
    )
    assert result.diagnoses == result.medications == result.allergies == []
    assert result.observations == result.plan == []
    assert result.sources == {"notes": [], "interactions": []}
    patient = summary(record, audience="patient")
    assert "no clinical notes on file for you" in patient


def test_no_known_allergies_and_stopped_medication(record: PatientRecord) -> None:
    for note in record["notes"]:
        note["structured_data"].pop("allergies", None)
    record["notes"][1]["structured_data"]["no_known_allergies"] = True
    result = generate_summary(record, SummaryOptions(), LOCAL)
    assert result.allergies == ["No known drug allergies"]
    assert "NKDA" in result.narrative
    assert not any(m.startswith("ibuprofen") for m in result.medications)


def test_missing_structured_keys_are_treated_as_empty(record: PatientRecord) -> None:
    for note in record["notes"]:
        note["structured_data"] = {}
    result = generate_summary(record, SummaryOptions(length="detailed"), LOCAL)
    assert "No diagnoses recorded." in result.narrative
    assert "Allergies not documented." in result.narrative
    assert result.observations == []


def test_identified_family_summary_uses_first_name(record: PatientRecord) -> None:
    text = summary(record, audience="family", deidentify=False)
    assert text.startswith(f"{FIRST_NAME} is a 62-year-old woman.")


def test_a_condition_documented_twice_is_one_problem_in_its_newest_wording() -> None:
    record = empty_record()
    notes: list[Any] = [
        {
            "id": "n2",
            "taken_at": "2026-11-20T09:00:00+00:00",
            "note_type": "progress",
            "content": "",
            "sections": None,
            "structured_data": {"diagnoses": [{"text": "Hypertension, improving"}]},
        },
        {
            "id": "n1",
            "taken_at": "2026-11-01T09:00:00+00:00",
            "note_type": "progress",
            "content": "",
            "sections": None,
            "structured_data": {"diagnoses": [{"text": "Hypertension"}, {"text": "Asthma"}]},
        },
    ]
    record["notes"] = notes
    result = generate_summary(record, SummaryOptions(audience="clinician"), LOCAL)
    assert result.diagnoses == ["Hypertension, improving", "Asthma"]
    patient = generate_summary(record, SummaryOptions(audience="patient"), LOCAL)
    assert patient.narrative.count("high blood pressure") == 1
