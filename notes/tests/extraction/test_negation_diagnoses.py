from __future__ import annotations

import pytest

from notes.extraction import analyze_note
from notes.extraction.negation import (
    AFFIRMED,
    HYPOTHETICAL,
    NEGATED,
    assertion_of,
    clause_assertion,
)


@pytest.mark.parametrize(
    ("sentence", "phrase", "expected"),
    [
        ("No chest pain.", "chest pain", NEGATED),
        ("Patient denies fever or chills.", "chills", NEGATED),
        ("CTA: ruled out PE.", "PE", NEGATED),
        ("PE was ruled out by CTA.", "PE", NEGATED),
        ("Negative for influenza.", "influenza", NEGATED),
        ("No evidence of DVT.", "DVT", NEGATED),
        ("Abdomen soft without guarding.", "guarding", NEGATED),
        ("Not consistent with cellulitis.", "cellulitis", NEGATED),
        ("Rule out PE.", "PE", HYPOTHETICAL),
        ("Endocarditis not ruled out.", "Endocarditis", HYPOTHETICAL),
        ("Possible pneumonia.", "pneumonia", HYPOTHETICAL),
        ("r/o MI - ruled out", "MI", NEGATED),
        ("Reports chest pain but denies fever.", "chest pain", AFFIRMED),
        ("Hyperkalemia, resolved.", "Hyperkalemia", AFFIRMED),
    ],
)
def test_assertion(sentence: str, phrase: str, expected: str) -> None:
    assert assertion_of(sentence, phrase) == expected


def test_mid_clause_negation_truncates() -> None:
    kind, cut = clause_assertion("Mechanical fall without head injury")
    assert kind == AFFIRMED
    assert "Mechanical fall without head injury"[:cut].strip() == "Mechanical fall"


def _dx(text: str) -> list[str]:
    return [d["text"] for d in analyze_note(text).structured_data["diagnoses"]]


def test_diagnoses_skip_negated_and_hypothetical() -> None:
    text = (
        "S: cough\n"
        "A:\n"
        "1. Community-acquired pneumonia, right lower lobe - ceftriaxone\n"
        "2. No evidence of sepsis\n"
        "3. Rule out PE - CTA\n"
        "4. Possible heart failure\n"
        "5. Fall without fracture\n"
        "6. Hypokalemia, resolved\n"
        "P: admit"
    )
    data = analyze_note(text).structured_data
    assert [(d["text"], d["certainty"]) for d in data["diagnoses"]] == [
        ("Community-acquired pneumonia, right lower lobe", "confirmed"),
        ("PE", "uncertain"),
        ("heart failure", "uncertain"),
        ("Fall", "confirmed"),
    ]
    assert [d["text"] for d in data["past_diagnoses"]] == ["Hypokalemia"]
    excluded = data["excluded_diagnoses"]
    assert [(e["text"], e["assertion"]) for e in excluded] == [("No evidence of sepsis", NEGATED)]


def test_combined_assessment_and_plan_drops_plan_lines() -> None:
    text = (
        "Subjective: SOB\nObjective: RR 24\n"
        "Assessment and Plan:\n"
        "COPD exacerbation; hypoxemia.\n"
        "Continue prednisone 40 mg daily.\n"
        "Start doxycycline 100 mg BID.\n"
    )
    assert _dx(text) == ["COPD exacerbation", "hypoxemia"]


def test_non_soap_diagnosis_lists() -> None:
    text = (
        "Discharge Summary\nDischarge diagnoses:\n- Acute pyelonephritis\n- AKI\n\n"
        "Hospital course: treated with ceftriaxone."
    )
    assert _dx(text) == ["Acute pyelonephritis", "AKI"]
    assert _dx("Impression: Seropositive rheumatoid arthritis.\nRecommendations: MTX") == [
        "Seropositive rheumatoid arthritis"
    ]


def test_postoperative_same_falls_back_to_preoperative() -> None:
    text = "Preoperative diagnosis: Cholelithiasis.\nPostoperative diagnosis: Same.\nEBL: 10 mL"
    assert _dx(text) == ["Cholelithiasis"]


def test_diagnosis_span_points_at_text() -> None:
    text = "S: x\nA: 1. Hypertension\nP: y"
    dx = analyze_note(text).structured_data["diagnoses"][0]
    assert text[dx["span"]["start"] : dx["span"]["end"]] == "Hypertension"


def test_recs_heading_ends_impression_block() -> None:
    text = "Impression: Steroid-induced hyperglycemia.\nRecs: insulin NPH 10 units SC qAM."
    assert _dx(text) == ["Steroid-induced hyperglycemia"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A/P: 1. Hypertension. 2. Diabetes.", ["Hypertension", "Diabetes"]),
        ("Assessment: 1. Pneumonia. 2) Hypertension. 3. No PE.", ["Pneumonia", "Hypertension"]),
    ],
)
def test_inline_numbered_assessment_items(text: str, expected: list[str]) -> None:
    items = analyze_note(text).structured_data["diagnoses"]
    assert [d["text"] for d in items] == expected
    for item in items:
        assert text[item["span"]["start"] : item["span"]["end"]] == item["text"]
