"""Shape of the input record handed to the engine.

Everything is JSON-compatible; datetimes are ISO-8601 strings with an offset. The engine
reads the record defensively (missing keys are treated as empty), so these types document
the contract rather than being enforced at runtime.
"""

from __future__ import annotations

from typing import Literal, TypedDict

Gender = Literal["female", "male", "other", "unknown"]


class Patient(TypedDict):
    id: str
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: str  # YYYY-MM-DD
    gender: Gender
    email: str | None
    phone: str | None


class Quantity(TypedDict):
    value: float
    unit: str


class Vitals(TypedDict, total=False):
    systolic_bp: Quantity
    diastolic_bp: Quantity
    heart_rate: Quantity
    respiratory_rate: Quantity
    temperature_c: Quantity
    spo2: Quantity
    weight_kg: Quantity
    height_cm: Quantity


class Medication(TypedDict):
    name: str
    dose: str | None
    route: str | None
    frequency: str | None
    status: Literal["active", "stopped"]


class Allergy(TypedDict):
    substance: str
    reaction: str | None


class Diagnosis(TypedDict):
    text: str


class StructuredData(TypedDict, total=False):
    vitals: Vitals
    medications: list[Medication]
    allergies: list[Allergy]
    no_known_allergies: bool
    diagnoses: list[Diagnosis]


class Section(TypedDict, total=False):
    text: str


class Sections(TypedDict, total=False):
    subjective: Section
    objective: Section
    assessment: Section
    plan: Section


class Note(TypedDict):
    id: str
    taken_at: str
    note_type: str
    content: str
    sections: Sections | None
    structured_data: StructuredData


class Outcome(TypedDict):
    code: str
    label: str
    severity: int  # higher means more severe


class Interaction(TypedDict):
    id: str
    occurred_at: str
    outcome: Outcome
    notes: str
    doctor: str | None


class Appointment(TypedDict):
    id: str
    start_time: str
    duration_minutes: int
    doctor: str
    specialty: str
    reason: str | None


class PatientRecord(TypedDict):
    patient: Patient
    as_of: str
    notes: list[Note]
    interactions: list[Interaction]
    upcoming_appointments: list[Appointment]
