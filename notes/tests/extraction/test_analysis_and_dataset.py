from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notes.extraction import NoteAnalysis, analyze_note, evaluate_dataset, format_report
from notes.extraction.evaluation import DEFAULT_DATASET

SAMPLE = (
    "S: 67 yo M, denies chest pain.\n"
    "O: BP 128/82, HR 72, RR 16, Temp 99.0 F, SpO2 97% on RA, weight 180 lb, height 5'10\"\n"
    "A: 1. Acute on chronic systolic heart failure\n2. No evidence of pneumonia\n"
    "P: Metoprolol 25 mg PO BID. Stopped lisinopril due to cough. Allergies: NKDA."
)


def _walk_spans(obj: Any, text: str) -> int:
    count = 0
    if isinstance(obj, dict):
        if {"text", "start", "end"} <= set(obj) and isinstance(obj.get("start"), int):
            assert text[obj["start"] : obj["end"]] == obj["text"]
            count += 1
        for value in obj.values():
            count += _walk_spans(value, text)
    elif isinstance(obj, list):
        for value in obj:
            count += _walk_spans(value, text)
    return count


def test_full_analysis_shape_and_spans() -> None:
    result = analyze_note(SAMPLE)
    assert isinstance(result, NoteAnalysis)
    data = result.as_dict()
    json.dumps(data)  # JSON-serialisable
    sd = data["structured_data"]
    assert sd["vitals"]["temperature_c"] == {
        "value": 37.2,
        "unit": "°C",
        "original": "99.0 F",
        "span": sd["vitals"]["temperature_c"]["span"],
    }
    assert sd["vitals"]["weight_kg"]["value"] == 81.6
    assert sd["vitals"]["height_cm"]["value"] == 177.8
    assert {m["name"]: m["status"] for m in sd["medications"]} == {
        "metoprolol": "active",
        "lisinopril": "stopped",
    }
    assert sd["no_known_allergies"] is True and sd["allergies"] == []
    assert [d["text"] for d in sd["diagnoses"]] == ["Acute on chronic systolic heart failure"]
    assert _walk_spans(data, SAMPLE) >= 12


def test_empty_note() -> None:
    result = analyze_note("")
    assert result.sections is None
    assert result.note_type == "other"
    assert result.structured_data["medications"] == []


def test_dataset_is_well_formed() -> None:
    lines = Path(DEFAULT_DATASET).read_text("utf-8").splitlines()
    notes = [json.loads(line) for line in lines if line.strip()]
    assert len(notes) >= 35
    assert len({n["id"] for n in notes}) == len(notes)
    types = {n["expected"]["note_type"] for n in notes}
    assert types == {"admission", "progress", "consult", "procedure", "discharge", "other"}


def test_shipped_dataset_floors() -> None:
    """Floors sit a little under the figures achieved, so regressions fail."""
    metrics = evaluate_dataset()
    assert metrics["notes"] >= 35
    assert metrics["type_accuracy"] >= 0.95
    for name, v in metrics["vitals"].items():
        assert v["rate"] >= 0.95, name
    assert metrics["medications"]["precision"] >= 0.95
    assert metrics["medications"]["recall"] >= 0.93
    assert metrics["medications"]["status_accuracy"] >= 0.95
    assert metrics["allergies"]["precision"] >= 0.95
    assert metrics["allergies"]["recall"] >= 0.95
    assert metrics["diagnoses"]["precision"] >= 0.93
    assert metrics["diagnoses"]["recall"] >= 0.93
    assert metrics["negation_checked"] >= 50
    assert metrics["negation_errors"] == 0
    report = format_report(metrics)
    assert "Note type accuracy" in report and "Context-rule errors" in report
