"""A patient's structured data, gathered across their current notes.

Reads one query: every current note (not entered in error) whose extraction is done,
oldest first, so that a later note overrides an earlier one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notes.extraction import condition_key
from notes.models import ExtractionStatus, Note
from patients.models import Patient


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def patient_clinical_data(patient: Patient) -> dict[str, Any]:
    """Latest vitals, active medications, allergies and diagnoses with their sources.

    * vitals: the latest value of each (``at`` is the note's ``taken_at``);
    * medications: those whose latest mention is not a stop/hold; each lists every note
      that mentions it and takes dose, route and frequency from the latest mention;
    * allergies and diagnoses: the union over the notes, each with its notes;
    * ``no_known_allergies``: a note says NKDA and no note lists an allergy.
    """
    rows = (
        Note.objects.current()
        .for_patient(patient.pk)
        .filter(extraction_status=ExtractionStatus.DONE)
        .order_by("taken_at", "id")
        .values_list("id", "taken_at", "structured_data")
    )
    vitals: dict[str, dict[str, Any]] = {}
    medications: dict[str, dict[str, Any]] = {}
    allergies: dict[str, dict[str, Any]] = {}
    diagnoses: dict[str, dict[str, Any]] = {}
    nkda_notes: list[str] = []
    note_ids: list[str] = []
    for note_id, taken_at, data in rows:
        nid = str(note_id)
        note_ids.append(nid)
        data = data or {}
        for name, vital in (data.get("vitals") or {}).items():
            vitals[name] = {
                "value": vital.get("value"),
                "unit": vital.get("unit"),
                "at": taken_at,
                "note_id": nid,
            }
        for med in data.get("medications") or []:
            _merge_medication(medications, med, nid, taken_at)
        for allergy in data.get("allergies") or []:
            entry = allergies.setdefault(
                _key(allergy["substance"]),
                {"substance": allergy["substance"], "reaction": None, "note_ids": []},
            )
            entry["reaction"] = allergy.get("reaction") or entry["reaction"]
            _add_source(entry, nid)
        if data.get("no_known_allergies"):
            nkda_notes.append(nid)
        for diagnosis in data.get("diagnoses") or []:
            # One entry per condition, worded as the newest note has it ("Hypertension"
            # then "Hypertension, controlled" is one problem, now controlled).
            entry = diagnoses.setdefault(
                condition_key(diagnosis["text"]),
                {"text": diagnosis["text"], "first_noted_at": taken_at, "note_ids": []},
            )
            entry["text"] = diagnosis["text"]
            entry["last_noted_at"] = taken_at
            _add_source(entry, nid)
    active = [
        {k: v for k, v in med.items() if k != "status"}
        for med in medications.values()
        if med["status"] == "active"
    ]
    return {
        "patient_id": patient.pk,
        "vitals": vitals,
        "medications": sorted(active, key=lambda m: _key(m["name"])),
        "allergies": sorted(allergies.values(), key=lambda a: _key(a["substance"])),
        "no_known_allergies": bool(nkda_notes) and not allergies,
        "no_known_allergies_note_ids": nkda_notes,
        "diagnoses": sorted(diagnoses.values(), key=lambda d: condition_key(d["text"])),
        "source_note_ids": note_ids,
    }


def _add_source(entry: dict[str, Any], note_id: str) -> None:
    if note_id not in entry["note_ids"]:
        entry["note_ids"].append(note_id)


def _merge_medication(
    medications: dict[str, dict[str, Any]], med: dict[str, Any], note_id: str, at: datetime
) -> None:
    entry = medications.setdefault(
        _key(med["name"]),
        {
            "name": med["name"],
            "dose": None,
            "route": None,
            "frequency": None,
            "status": "active",
            "last_mentioned_at": at,
            "note_ids": [],
        },
    )
    entry["status"] = med.get("status") or "active"
    entry["last_mentioned_at"] = at
    for attribute in ("dose", "route", "frequency"):
        if med.get(attribute):
            entry[attribute] = med[attribute]
    _add_source(entry, note_id)
