from __future__ import annotations

import pytest

from notes.extraction import analyze_note


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HISTORY AND PHYSICAL\nCC: chest pain\nHPI: 60M ...", "admission"),
        ("H&P\nChief complaint: fever", "admission"),
        ("Admission note\nPMH: DM2", "admission"),
        ("Discharge Summary\nHospital course: uneventful.", "discharge"),
        ("Discharge diagnoses:\n1. CAP\nDischarge medications: none", "discharge"),
        ("Cardiology Consult\nReason for consultation: AF", "consult"),
        ("Dear Dr. Smith,\nThank you for referring Mr. X.", "consult"),
        ("PROCEDURE NOTE\nProcedure: thoracentesis\nComplications: none", "procedure"),
        ("Procedure: lumbar puncture\nInformed consent obtained. EBL minimal.", "procedure"),
        ("Progress Note\nNo acute events overnight.", "progress"),
        ("Interval history: feels better. Hospital day 4.", "progress"),
        ("S: better\nO: HR 70\nA: CAP\nP: abx", "progress"),
        ("Telephone encounter: pt called about refill.", "other"),
        ("Lorem ipsum dolor sit amet.", "other"),
    ],
)
def test_classification_examples(text: str, expected: str) -> None:
    result = analyze_note(text)
    assert result.note_type == expected
    assert result.note_type_source == "auto"
    assert result.note_type_confidence is not None
    assert 0.0 <= result.note_type_confidence <= 1.0


def test_nothing_fires_is_other_with_zero_confidence() -> None:
    result = analyze_note("Lorem ipsum.")
    assert (result.note_type, result.note_type_confidence) == ("other", 0.0)


def test_plan_mentions_do_not_flip_type() -> None:
    text = "S: weak\nO: HR 58\nA: bradycardia\nP: Nutrition consult. Discharge tomorrow."
    assert analyze_note(text).note_type == "progress"


def test_client_note_type_is_kept() -> None:
    result = analyze_note("Discharge Summary\n...", note_type="Consult")
    assert result.note_type == "consult"
    assert result.note_type_source == "client"
    assert result.note_type_confidence is None


def test_unknown_client_note_type_rejected() -> None:
    with pytest.raises(ValueError, match="unknown note_type"):
        analyze_note("text", note_type="radiology")
