from __future__ import annotations

import json

import pytest

from summaries.engine.deidentify import Masker, build_view
from summaries.engine.record import PatientRecord
from summaries.tests.engine.sample import make_record

PATIENT = make_record()["patient"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen Marisol Quintanilla-Ruiz today", "Seen [PATIENT] today"),
        ("QUINTANILLA-RUIZ, MARISOL", "[PATIENT]"),
        ("Mrs. Ruiz and marisol's daughter", "Mrs. [PATIENT] and [PATIENT]'s daughter"),
        ("Marisolina is another person", "Marisolina is another person"),
        ("MRN-0048213 / MRN 0048213 / 0048213", "[MRN] / [MRN] / [MRN]"),
        ("mail MARISOL.QR@EXAMPLE.ORG", "mail [EMAIL]"),
        ("or son@family.example.com", "or [EMAIL]"),
        ("+1 (617) 555-0199", "[PHONE]"),
        ("617.555.0199, 6175550199, 1-617-555-0199", "[PHONE], [PHONE], [PHONE]"),
        ("call 555-0199 after 5", "call [PHONE] after 5"),
        ("DOB 1964-03-04", "DOB [DOB]"),
        ("DOB 03/04/1964 or 3/4/64", "DOB [DOB] or [DOB]"),
        ("born 04/03/1964", "born [DOB]"),
        ("born March 4, 1964; 4th March 1964; Mar. 4 1964", "born [DOB]; [DOB]; [DOB]"),
        ("seen 2026-03-04 for BP 128/82", "seen 2026-03-04 for BP 128/82"),
    ],
)
def test_masker(text: str, expected: str) -> None:
    assert Masker(PATIENT).mask(text) == expected


def test_view_has_age_not_identifiers(record: PatientRecord) -> None:
    view = build_view(record, deidentify=True)
    assert view["patient"] == {"age": 62, "gender": "female"}
    assert view["as_of"] == "2026-11-22"
    assert [n["date"] for n in view["notes"]] == ["2026-11-18", "2026-11-20"]
    assert "content" in view["notes"][0] and "sections" not in view["notes"][0]
    assert view["notes"][1]["sections"]["plan"].startswith("- Continue amoxicillin")
    assert view["interactions"][0]["doctor"] == "Dr. Okafor"
    blob = json.dumps(view)
    assert "pat-1" not in blob and "note-1" not in blob


def test_view_identified_keeps_name_and_mrn(record: PatientRecord) -> None:
    view = build_view(record, deidentify=False)
    assert view["patient"]["name"] == "Marisol Quintanilla-Ruiz"
    assert view["patient"]["mrn"] == "MRN-0048213"
    assert "Marisol Quintanilla-Ruiz (MRN 0048213" in view["notes"][0]["content"]


def test_notes_are_sorted_chronologically_across_offsets(record: PatientRecord) -> None:
    record["notes"][0]["taken_at"] = "2026-11-21T01:00:00+05:00"  # 2026-11-20T20:00Z
    view = build_view(record, deidentify=True)
    assert [n["type"] for n in view["notes"]] == ["progress", "admission"]
