"""The patient's current clinical picture, folded from their notes' structured data.

One pure function, :func:`clinical_picture`, used by the clinical-data endpoint
(``notes/clinical_data.py``) and by the offline summarizer (``summaries/engine``), so both say
the same thing about the same notes. It reads plain mappings - no database, no Django.

Rules, applied to the notes oldest first so a later note overrides an earlier one:

* vitals: the latest value of each;
* medications: the latest mention decides the status; those whose latest status is
  ``active`` are current, ``held`` ones are listed apart; dose, route and frequency come from
  the latest mention that states them, ``change`` from the latest note that changes the drug;
* allergies: the union, each with the latest reaction named; ``no_known_allergies`` only when a
  note says NKDA and no note lists an allergy;
* diagnoses: one entry per condition (:func:`condition_key`; a key inside another, "pneumonia"
  and "community acquired pneumonia", is the same condition, and so are two that name one
  condition of the vocabulary: "heart failure"), worded as the newest note has it,
  with that note's certainty; a condition a later note calls past ("h/o", "resolved") moves to
  ``past_diagnoses``, and one a later note states as current moves back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .conditions import CONDITION_RE
from .diagnoses import condition_key


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _add_source(entry: dict[str, Any], note_id: Any) -> None:
    if note_id is not None and note_id not in entry["note_ids"]:
        entry["note_ids"].append(note_id)


def clinical_picture(notes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Fold ``notes`` (each ``{"id", "at", "structured_data"}``, oldest first).

    ``at`` is whatever the caller orders by (a datetime or an ISO date); it is copied into the
    result as ``at`` / ``first_noted_at`` / ``last_noted_at`` / ``last_mentioned_at``.
    """
    vitals: dict[str, dict[str, Any]] = {}
    medications: dict[str, dict[str, Any]] = {}
    allergies: dict[str, dict[str, Any]] = {}
    diagnoses: dict[str, dict[str, Any]] = {}
    past: dict[str, dict[str, Any]] = {}
    nkda_notes: list[Any] = []
    note_ids: list[Any] = []
    for note in notes:
        nid, at = note.get("id"), note.get("at")
        data = note.get("structured_data") or {}
        if nid is not None:
            note_ids.append(nid)
        for name, vital in (data.get("vitals") or {}).items():
            if isinstance(vital, Mapping) and vital.get("value") is not None:
                vitals[name] = {
                    "value": vital.get("value"),
                    "unit": vital.get("unit"),
                    "at": at,
                    "note_id": nid,
                }
        for med in data.get("medications") or []:
            _merge_medication(medications, med, nid, at)
        for allergy in data.get("allergies") or []:
            substance = str(allergy.get("substance") or "").strip()
            if not substance:
                continue
            entry = allergies.setdefault(
                _key(substance), {"substance": substance, "reaction": None, "note_ids": []}
            )
            entry["reaction"] = allergy.get("reaction") or entry["reaction"]
            _add_source(entry, nid)
        if data.get("no_known_allergies"):
            nkda_notes.append(nid)
        for diagnosis in data.get("diagnoses") or []:
            text = str(diagnosis.get("text") or "").strip()
            if not text:
                continue
            key = _same_condition(condition_key(text), diagnoses, past)
            entry = (
                diagnoses.get(key)
                or past.pop(key, None)
                or {
                    "text": text,
                    "first_noted_at": at,
                    "note_ids": [],
                }
            )
            entry.update(
                text=text,
                canonical=diagnosis.get("canonical") or text.lower(),
                certainty=diagnosis.get("certainty") or "confirmed",
                last_noted_at=at,
            )
            _add_source(entry, nid)
            diagnoses[key] = entry
        for diagnosis in data.get("past_diagnoses") or []:
            text = str(diagnosis.get("text") or "").strip()
            key = _same_condition(condition_key(text), diagnoses, past)
            if not text or (key in diagnoses and at == diagnoses[key]["last_noted_at"]):
                continue  # the same note also states it as current ("h/o HTN ... A: HTN")
            gone = diagnoses.pop(key, None) or past.setdefault(
                key, {"text": text, "first_noted_at": at, "note_ids": []}
            )
            gone.update(text=text, last_noted_at=at)
            gone.pop("certainty", None)
            _add_source(gone, nid)
            past[key] = gone
    active = [
        {k: v for k, v in med.items() if k != "status"}
        for med in medications.values()
        if med["status"] == "active"
    ]
    held = [
        {k: v for k, v in med.items() if k != "status"}
        for med in medications.values()
        if med["status"] == "held"
    ]
    return {
        "vitals": vitals,
        "medications": sorted(active, key=lambda m: _key(m["name"])),
        "held_medications": sorted(held, key=lambda m: _key(m["name"])),
        "allergies": sorted(allergies.values(), key=lambda a: _key(a["substance"])),
        "no_known_allergies": bool(nkda_notes) and not allergies,
        "no_known_allergies_note_ids": nkda_notes,
        "diagnoses": list(diagnoses.values()),
        "past_diagnoses": list(past.values()),
        "source_note_ids": note_ids,
    }


def _cores(key: str) -> set[str]:
    """The vocabulary's condition names inside a key ("acute on chronic systolic heart
    failure" -> {"heart failure"})."""
    return {
        " ".join(m.group(0).lower().replace("-", " ").split()) for m in CONDITION_RE.finditer(key)
    }


def _same_condition(key: str, *known: dict[str, dict[str, Any]]) -> str:
    """An already known condition's key when one names the other ("pneumonia" and
    "community acquired pneumonia") or both name the same known condition ("acute on chronic
    systolic heart failure" and "heart failure with reduced ejection fraction"), else
    ``key``."""
    for table in known:
        if key in table:
            return key
    cores = _cores(key)
    for table in known:
        for other in table:
            if f" {key} " in f" {other} " or f" {other} " in f" {key} ":
                return other
            if cores & _cores(other):
                return other
    return key


def _merge_medication(
    medications: dict[str, dict[str, Any]], med: Mapping[str, Any], note_id: Any, at: Any
) -> None:
    name = str(med.get("name") or "").strip()
    if not name:
        return
    entry = medications.setdefault(
        _key(name),
        {
            "name": name,
            "dose": None,
            "route": None,
            "frequency": None,
            "change": None,
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
    entry["change"] = med.get("change")
    _add_source(entry, note_id)
