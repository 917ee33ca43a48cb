"""The evaluate_notes command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from notes.extraction.evaluation import DEFAULT_DATASET


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("evaluate_notes", *args, stdout=out)
    return out.getvalue()


def test_evaluates_the_shipped_dataset_by_default() -> None:
    report = run()
    tuning, held_out = report.split("== Held-out set")
    assert "Notes evaluated: 68" in tuning and "Notes evaluated: 22" in held_out
    for part in (tuning, held_out):
        assert "Note type accuracy:" in part
        assert "systolic_bp" in part and "height_cm" in part
        assert "Medications  P" in part and "Diagnoses    P" in part
        for rule in ("negation", "history", "family", "hypothetical", "uncertainty"):
            assert f"  {rule}" in part


def test_evaluates_a_given_dataset() -> None:
    holdout = Path(DEFAULT_DATASET).with_name("holdout.jsonl")
    assert "Notes evaluated: 22" in run(str(holdout))


def test_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such dataset"):
        run(str(tmp_path / "nope.jsonl"))
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"hello": 1}\n')
    with pytest.raises(CommandError, match="not an annotated notes dataset"):
        run(str(foreign))
