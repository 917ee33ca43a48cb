from __future__ import annotations

import pytest

from notes.extraction import analyze_note
from notes.extraction.sections import sectionize


def _keys(text: str) -> list[str]:
    sections = sectionize(text)
    assert sections is not None
    return list(sections)


@pytest.mark.parametrize(
    ("s_head", "o_head", "a_head", "p_head"),
    [
        ("S:", "O:", "A:", "P:"),
        ("Subjective:", "Objective:", "Assessment:", "Plan:"),
        ("SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"),
        ("subjective", "Objective", "assessment:", "plan"),
        ("## Subjective", "## Objective", "## Assessment", "## Plan"),
        ("**Subjective:**", "**Objective:**", "**Assessment:**", "**Plan:**"),
    ],
)
def test_four_sections_each_spelling(s_head: str, o_head: str, a_head: str, p_head: str) -> None:
    text = f"{s_head}\ncough\n{o_head}\nHR 80\n{a_head}\nbronchitis\n{p_head}\nrest\n"
    sections = sectionize(text)
    assert sections is not None
    assert {k: v["text"] for k, v in sections.items()} == {
        "subjective": "cough",
        "objective": "HR 80",
        "assessment": "bronchitis",
        "plan": "rest",
    }


@pytest.mark.parametrize(
    "heading",
    [
        "A/P:",
        "A/P",
        "Assessment and Plan:",
        "Assessment & Plan",
        "ASSESSMENT/PLAN:",
        "Impression/Plan:",
        "Impression and plan",
    ],
)
def test_combined_heading_is_one_labelled_section(heading: str) -> None:
    text = f"Subjective: tired\n{heading}\n1. Anemia - iron\n"
    sections = sectionize(text)
    assert sections is not None
    assert set(sections) == {"subjective", "assessment_and_plan"}
    combined = sections["assessment_and_plan"]
    assert combined["text"] == "1. Anemia - iron"
    assert combined["label"] == heading.rstrip(":")
    assert [d["text"] for d in analyze_note(text).structured_data["diagnoses"]] == ["Anemia"]


@pytest.mark.parametrize(
    "text",
    [
        "S: follow-up for hypertension. O: BP 138/86, HR 72. A: essential hypertension. "
        "P: continue lisinopril 10 mg PO daily.",
        "Subjective: follow-up for hypertension. Objective: BP 138/86, HR 72. Assessment: "
        "essential hypertension. Plan: continue lisinopril 10 mg PO daily.",
    ],
)
def test_inline_soap_labels_in_one_paragraph(text: str) -> None:
    result = analyze_note(text)
    assert result.sections is not None
    assert {k: v["text"] for k, v in result.sections.items()} == {
        "subjective": "follow-up for hypertension.",
        "objective": "BP 138/86, HR 72.",
        "assessment": "essential hypertension.",
        "plan": "continue lisinopril 10 mg PO daily.",
    }
    assert [d["text"] for d in result.structured_data["diagnoses"]] == ["essential hypertension"]


def test_inline_combined_label_after_a_sentence() -> None:
    text = "Pt seen for knee pain. BP 134/84. A/P: Osteoarthritis of right knee - naproxen."
    dx = analyze_note(text).structured_data["diagnoses"]
    assert [d["text"] for d in dx] == ["Osteoarthritis of right knee"]


def test_impression_counts_as_assessment() -> None:
    sections = sectionize("Impression: Gout.\nPlan: colchicine.")
    assert sections is not None
    assert sections["assessment"]["text"] == "Gout."
    assert sections["plan"]["text"] == "colchicine."


def test_inline_heading_content_on_same_line() -> None:
    text = "S: pt c/o pain\nO: T 37.0 C\nA: sprain\nP: ice"
    sections = sectionize(text)
    assert sections is not None
    assert sections["subjective"]["text"] == "pt c/o pain"


def test_prose_lines_are_not_headings() -> None:
    text = "S: Feels better.\nA 45-year-old walked today.\nPlan to go home tomorrow.\nO: HR 70\n"
    sections = sectionize(text)
    assert sections is not None
    assert list(sections) == ["subjective", "objective"]
    assert "A 45-year-old" in sections["subjective"]["text"]
    assert "Plan to go home" in sections["subjective"]["text"]


def test_heading_must_be_at_line_start() -> None:
    assert sectionize("Patient says Assessment: fine and Plan: none.") is None


def test_single_heading_is_not_soap() -> None:
    assert sectionize("Plan: follow up in 2 weeks.") is None
    assert analyze_note("Assessment and Plan:\n1. CHF").sections is None


def test_offsets_point_into_original() -> None:
    text = "  S:   headache  \n\nO:\n  BP 120/80  \n"
    sections = sectionize(text)
    assert sections is not None
    for value in sections.values():
        assert text[value["start"] : value["end"]] == value["text"]
        assert value["text"] == value["text"].strip()


def test_markdown_emphasis_is_read_through_and_spans_index_the_original() -> None:
    text = "**S:** cough\n**O:** **BP** 118/76\n**Allergies:** sulfa (rash)\n**A:** Asthma."
    analysis = analyze_note(text)
    assert analysis.sections is not None
    assert set(analysis.sections) >= {"subjective", "objective", "assessment"}
    data = analysis.structured_data
    assert data["vitals"]["systolic_bp"]["value"] == 118
    assert data["allergies"][0]["substance"] == "sulfa"
    assert [d["text"] for d in data["diagnoses"]] == ["Asthma"]
    for span in (data["vitals"]["systolic_bp"]["span"], data["allergies"][0]["span"]):
        assert text[span["start"] : span["end"]] == span["text"]
