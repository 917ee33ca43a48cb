"""Evaluate the engine against an annotated JSONL dataset.

Each line: ``{"id", "text", "expected": {"note_type", "vitals": {name: value},
"medications": [{"name", "status"}], "allergies": [substance], "no_known_allergies": bool,
"diagnoses": [phrase], "negated": [phrase]}}``.

Matching is normalised (lower case, punctuation removed) and phrase-contained in either
direction; each expected item can match one extracted item at most. ``negated`` holds findings
that must not be reported as diagnoses (negated or hypothetical in the text): each one found among
the extracted diagnoses is a negation error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .analyzer import analyze_note
from .spans import normalize, phrase_match

VITAL_NAMES = (
    "systolic_bp",
    "diastolic_bp",
    "heart_rate",
    "respiratory_rate",
    "temperature_c",
    "spo2",
    "weight_kg",
    "height_cm",
)
DEFAULT_DATASET = Path(__file__).parent / "dataset" / "notes.jsonl"


def _match(expected: Sequence[str], extracted: Sequence[str]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching: exact normalised equality first, then containment."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    pending = list(range(len(expected)))
    for exact in (True, False):
        still: list[int] = []
        for i in pending:
            for j, got in enumerate(extracted):
                if j in used:
                    continue
                if (
                    (normalize(expected[i]) == normalize(got))
                    if exact
                    else phrase_match(expected[i], got)
                ):
                    pairs.append((i, j))
                    used.add(j)
                    break
            else:
                still.append(i)
        pending = still
    return pairs


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _load(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate_dataset(path: str | Path = DEFAULT_DATASET) -> dict[str, Any]:
    """Run :func:`analyze_note` on every note of ``path`` and compute metrics."""
    notes = _load(path)
    type_ok = 0
    vitals = {name: {"expected": 0, "exact": 0, "unexpected": 0} for name in VITAL_NAMES}
    counts = {key: [0, 0, 0] for key in ("medications", "allergies", "diagnoses")}
    status_ok = status_total = 0
    nka_ok = 0
    neg_errors = neg_checked = 0
    failures: list[dict[str, Any]] = []
    for note in notes:
        exp = note["expected"]
        sd = analyze_note(note["text"]).as_dict()
        data = sd["structured_data"]
        if sd["note_type"] == exp["note_type"]:
            type_ok += 1
        else:
            failures.append({"id": note["id"], "field": "note_type", "got": sd["note_type"]})
        for name in VITAL_NAMES:
            got = data["vitals"].get(name)
            if name in exp["vitals"]:
                vitals[name]["expected"] += 1
                if got is not None and abs(float(got["value"]) - float(exp["vitals"][name])) < 0.05:
                    vitals[name]["exact"] += 1
                else:
                    failures.append({"id": note["id"], "field": name, "got": got and got["value"]})
            elif got is not None:
                vitals[name]["unexpected"] += 1
        exp_meds = [m["name"] for m in exp["medications"]]
        got_meds = [m["name"] for m in data["medications"]]
        pairs = _match(exp_meds, got_meds)
        for i, j in pairs:
            status_total += 1
            status_ok += exp["medications"][i]["status"] == data["medications"][j]["status"]
        _tally(counts["medications"], len(pairs), len(got_meds), len(exp_meds))
        got_all = [a["substance"] for a in data["allergies"]]
        _tally(
            counts["allergies"],
            len(_match(exp["allergies"], got_all)),
            len(got_all),
            len(exp["allergies"]),
        )
        nka_ok += data["no_known_allergies"] == exp["no_known_allergies"]
        got_dx = [d["text"] for d in data["diagnoses"]]
        _tally(
            counts["diagnoses"],
            len(_match(exp["diagnoses"], got_dx)),
            len(got_dx),
            len(exp["diagnoses"]),
        )
        for finding in exp.get("negated", []):
            neg_checked += 1
            if any(phrase_match(finding, d) for d in got_dx):
                neg_errors += 1
                failures.append({"id": note["id"], "field": "negation", "got": finding})
    n = len(notes)
    return {
        "notes": n,
        "type_accuracy": round(type_ok / n, 3) if n else 0.0,
        "vitals": {
            name: {**v, "rate": round(v["exact"] / v["expected"], 3) if v["expected"] else 1.0}
            for name, v in vitals.items()
        },
        "medications": {
            **_prf(*counts["medications"]),
            "status_accuracy": round(status_ok / status_total, 3) if status_total else 1.0,
        },
        "allergies": {
            **_prf(*counts["allergies"]),
            "nka_accuracy": round(nka_ok / n, 3) if n else 0.0,
        },
        "diagnoses": _prf(*counts["diagnoses"]),
        "negation_errors": neg_errors,
        "negation_checked": neg_checked,
        "failures": failures,
    }


def _tally(bucket: list[int], tp: int, n_got: int, n_expected: int) -> None:
    bucket[0] += tp
    bucket[1] += n_got - tp
    bucket[2] += n_expected - tp


def format_report(metrics: dict[str, Any]) -> str:
    """Human-readable multi-line summary of :func:`evaluate_dataset` output."""
    lines = [
        f"Notes evaluated: {metrics['notes']}",
        f"Note type accuracy: {metrics['type_accuracy']:.1%}",
        "Vitals (exact / expected):",
    ]
    for name, v in metrics["vitals"].items():
        lines.append(
            f"  {name:<17} {v['exact']:>3} / {v['expected']:<3} ({v['rate']:.0%})"
            f"  unexpected: {v.get('unexpected', 0)}"
        )
    for key in ("medications", "allergies", "diagnoses"):
        m = metrics[key]
        extra = ""
        if "status_accuracy" in m:
            extra = f"  status acc {m['status_accuracy']:.1%}"
        if "nka_accuracy" in m:
            extra = f"  NKA flag acc {m['nka_accuracy']:.1%}"
        lines.append(
            f"{key.capitalize():<12} P {m['precision']:.1%}  R {m['recall']:.1%}"
            f"  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']}){extra}"
        )
    lines.append(
        f"Negation errors: {metrics['negation_errors']} of {metrics['negation_checked']} "
        "negated/hypothetical findings checked"
    )
    return "\n".join(lines)
