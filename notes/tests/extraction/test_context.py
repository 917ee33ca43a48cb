"""The context rules: does a finding belong to the patient now?"""

from __future__ import annotations

import pytest

from notes.extraction import analyze_note


def _read(text: str) -> dict[str, list[str]]:
    data = analyze_note(text).structured_data
    return {
        "confirmed": [d["text"] for d in data["diagnoses"] if d["certainty"] == "confirmed"],
        "uncertain": [d["text"] for d in data["diagnoses"] if d["certainty"] == "uncertain"],
        "past": [d["text"] for d in data["past_diagnoses"]],
        "family": [d["text"] for d in data["family_history"]],
        "excluded": [d["text"] for d in data["excluded_diagnoses"]],
    }


@pytest.mark.parametrize(
    ("text", "kind", "finding"),
    [
        ("Assessment: history of breast cancer\nPlan: mammogram", "past", "breast cancer"),
        ("Assessment: s/p CABG 2018\nPlan: statin", "past", "CABG 2018"),
        ("A: h/o DVT, not on anticoagulation\nP: none", "past", "DVT"),
        (
            "Assessment: Diabetic ketoacidosis, resolved\nPlan: insulin",
            "past",
            "Diabetic ketoacidosis",
        ),
        ("Assessment: Family history of colon cancer\nPlan: colonoscopy", "family", "colon cancer"),
        ("Assessment: Likely uncomplicated UTI\nPlan: fluids", "uncertain", "uncomplicated UTI"),
        ("Assessment: RLQ pain, r/o appendicitis\nPlan: CT", "uncertain", "appendicitis"),
        (
            "A: Chest pain, concern for acute coronary syndrome\nP: troponin",
            "uncertain",
            "acute coronary syndrome",
        ),
        ("Assessment: Obesity not present\nPlan: diet", "excluded", "Obesity not present"),
        ("Assessment: Gout unlikely\nPlan: NSAID", "excluded", "Gout unlikely"),
    ],
)
def test_assessment_clause_context(text: str, kind: str, finding: str) -> None:
    read = _read(text)
    assert finding in read[kind]
    assert finding not in read["confirmed"] or kind == "confirmed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "History of breast cancer s/p lumpectomy 2015, in remission. Mother with breast "
            "cancer at 60. LDL 168, consistent with hyperlipidemia.",
            {
                "confirmed": ["hyperlipidemia"],
                "past": ["breast cancer"],
                "family": ["breast cancer"],
            },
        ),
        (
            "Seen for follow-up of type 2 diabetes and hypertension. No chest pain.",
            {"confirmed": ["type 2 diabetes", "hypertension"], "past": [], "family": []},
        ),
        (
            "Called back. Watch for signs of dehydration. Return if pneumonia symptoms develop.",
            {"confirmed": [], "past": [], "family": []},
        ),
        (
            "His father had polycystic kidney disease. He has CKD 4 and anemia.",
            {"confirmed": ["CKD 4", "anemia"], "past": [], "family": ["polycystic kidney disease"]},
        ),
        (
            "Follow-up after pneumonia, which has resolved. Concern for iron deficiency anemia.",
            {"confirmed": [], "past": ["pneumonia"], "family": []},
        ),
    ],
)
def test_headingless_prose_is_read_with_context(text: str, expected: dict[str, list[str]]) -> None:
    read = _read(text)
    assert {k: read[k] for k in expected} == expected


def test_family_history_line_is_never_the_patients() -> None:
    text = (
        "HPI: 61 yo M with h/o MI.\nFHx: father MI at 52, brother with CAD.\n"
        "Assessment:\n1. HTN\nPlan: aspirin"
    )
    read = _read(text)
    assert read["confirmed"] == ["HTN"]
    assert "CAD" in read["family"] and "MI" in read["past"]


def test_abbreviations_keep_their_wording_and_gain_a_canonical_name() -> None:
    text = "Assessment:\n1. HTN\n2. CKD 3a\n3. Acute on chronic HFrEF\n4. AFib\nPlan: labs"
    dx = analyze_note(text).structured_data["diagnoses"]
    assert [(d["text"], d["canonical"]) for d in dx] == [
        ("HTN", "hypertension"),
        ("CKD 3a", "chronic kidney disease stage 3a"),
        ("Acute on chronic HFrEF", "acute on chronic heart failure with reduced ejection fraction"),
        ("AFib", "atrial fibrillation"),
    ]
    for d in dx:
        assert text[d["span"]["start"] : d["span"]["end"]] == d["text"]


def test_hash_problem_lines_without_a_heading() -> None:
    text = "Daily note\n#Cellulitis, left leg - cefazolin\n#T2DM - insulin\n#Hx of MRSA - isolation"
    read = _read(text)
    assert read["confirmed"] == ["Cellulitis, left leg", "T2DM"]
    assert read["past"] == ["MRSA"]


def test_structured_data_names_the_engine_version() -> None:
    from notes.extraction import ENGINE_VERSION

    assert analyze_note("BP 120/80").structured_data["engine_version"] == ENGINE_VERSION
