"""A sample patient record (and a model reply grounded in it) for the engine tests."""

from __future__ import annotations

from typing import Any

from summaries.engine.record import PatientRecord

API_KEY = "sk-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"

# Identifiers that must never reach the provider when deidentify=True.
FIRST_NAME = "Marisol"
LAST_NAME = "Quintanilla-Ruiz"
MRN = "MRN-0048213"
EMAIL = "marisol.qr@example.org"
PHONE = "+1 (617) 555-0199"
DOB = "1964-03-04"


def make_record() -> PatientRecord:
    return {
        "patient": {
            "id": "pat-1",
            "mrn": MRN,
            "first_name": FIRST_NAME,
            "last_name": LAST_NAME,
            "date_of_birth": DOB,
            "gender": "female",
            "email": EMAIL,
            "phone": PHONE,
        },
        "as_of": "2026-11-22T09:30:00+00:00",
        "notes": [
            {
                "id": "note-1",
                "taken_at": "2026-11-18T14:05:00+00:00",
                "note_type": "admission",
                "content": (
                    "Marisol Quintanilla-Ruiz (MRN 0048213, DOB 03/04/1964, born March 4, 1964) "
                    "presents with 4 days of productive cough and fever. Ms. quintanilla-ruiz "
                    "can be reached at 617-555-0199 or marisol.qr@example.org. "
                    "CXR shows right lower lobe consolidation. Started amoxicillin."
                ),
                "sections": None,
                "structured_data": {
                    "vitals": {
                        "systolic_bp": {"value": 146, "unit": "mmHg"},
                        "diastolic_bp": {"value": 92, "unit": "mmHg"},
                        "heart_rate": {"value": 112, "unit": "/min"},
                        "temperature_c": {"value": 38.9, "unit": "°C"},
                        "spo2": {"value": 91, "unit": "%"},
                    },
                    "medications": [
                        {
                            "name": "amoxicillin",
                            "dose": "1 g",
                            "route": "PO",
                            "frequency": "TID",
                            "status": "active",
                        },
                        {
                            "name": "metformin",
                            "dose": "500 mg",
                            "route": "PO",
                            "frequency": "BID",
                            "status": "active",
                        },
                        {
                            "name": "ibuprofen",
                            "dose": "400 mg",
                            "route": "PO",
                            "frequency": "PRN",
                            "status": "active",
                        },
                    ],
                    "allergies": [{"substance": "sulfa drugs", "reaction": "rash"}],
                    "diagnoses": [
                        {"text": "Community-acquired pneumonia"},
                        {"text": "Type 2 diabetes"},
                    ],
                },
            },
            {
                "id": "note-2",
                "taken_at": "2026-11-20T10:15:00+00:00",
                "note_type": "progress",
                "content": "SOAP progress note.",
                "sections": {
                    "subjective": {"text": "Marisol reports less cough; still tired."},
                    "objective": {"text": "Crackles right base, improved. Call +1 617 555 0199."},
                    "assessment": {
                        "text": "Community-acquired pneumonia, improving on antibiotics. "
                        "Hypertension, not yet at goal."
                    },
                    "plan": {
                        "text": "- Continue amoxicillin 1 g PO TID to complete 7 days\n"
                        "- Stop ibuprofen\n- Repeat CXR in 6 weeks"
                    },
                },
                "structured_data": {
                    "vitals": {
                        "systolic_bp": {"value": 128, "unit": "mmHg"},
                        "diastolic_bp": {"value": 82, "unit": "mmHg"},
                        "heart_rate": {"value": 88, "unit": "/min"},
                        "temperature_c": {"value": 38.1, "unit": "°C"},
                        "spo2": {"value": 94, "unit": "%"},
                    },
                    "medications": [
                        {
                            "name": "ibuprofen",
                            "dose": "400 mg",
                            "route": "PO",
                            "frequency": "PRN",
                            "status": "stopped",
                        },
                        {
                            "name": "lisinopril",
                            "dose": "10 mg",
                            "route": "PO",
                            "frequency": "daily",
                            "status": "active",
                        },
                    ],
                    "diagnoses": [{"text": "Hypertension"}],
                },
            },
        ],
        "interactions": [
            {
                "id": "int-1",
                "occurred_at": "2026-11-18T16:00:00+00:00",
                "outcome": {"code": "admitted", "label": "Admitted", "severity": 3},
                "notes": "Admitted to ward for IV fluids; daughter informed Marisol's plan.",
                "doctor": "Dr. Okafor",
            },
            {
                "id": "int-2",
                "occurred_at": "2026-11-21T11:00:00+00:00",
                "outcome": {"code": "monitor", "label": "Monitor", "severity": 2},
                "notes": "Afebrile overnight, eating well.",
                "doctor": "Dr. Okafor",
            },
        ],
        "upcoming_appointments": [
            {
                "id": "appt-1",
                "start_time": "2026-11-25T10:00:00+00:00",
                "duration_minutes": 30,
                "doctor": "Dr. Lindqvist",
                "specialty": "cardiology",
                "reason": "follow-up of blood pressure",
            }
        ],
    }


def empty_record() -> PatientRecord:
    record = make_record()
    record["notes"] = []
    record["interactions"] = []
    record["upcoming_appointments"] = []
    return record


def reply(**overrides: Any) -> dict[str, Any]:
    """A schema-valid model reply grounded in :func:`make_record`."""
    base: dict[str, Any] = {
        "narrative": "61-year-old female admitted with community-acquired pneumonia, improving.",
        "diagnoses": ["Community-acquired pneumonia", "Hypertension"],
        "medications": ["amoxicillin 1 g PO TID", "lisinopril 10 mg PO daily"],
        "allergies": ["sulfa drugs (rash)"],
        "observations": ["2026-11-20: T 38.1 °C (fever)"],
        "plan": ["Repeat CXR in 6 weeks", "2026-11-25 cardiology follow-up"],
    }
    base.update(overrides)
    return base
