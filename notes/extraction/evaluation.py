"""Evaluate the engine against an annotated JSONL dataset.

Each line: ``{"id", "text", "expected": {"note_type", "vitals": {name: value},
"medications": [{"name", "status", "route"?, "frequency"?}], "allergies": [substance],
"no_known_allergies": bool, "diagnoses": [phrase], "negated": [phrase], "uncertain": [phrase],
"history": [phrase], "family": [phrase], "hypothetical": [phrase]}}`` (the last four are
optional; ``format`` names the way the note is written).

Annotation guide: ``diagnoses`` are the patient's current, confirmed conditions as the
assessment / diagnosis / problem list states them (the whole note when it has none);
``uncertain`` ones are stated as possible; ``history`` are past conditions; ``family`` a
relative's; ``negated`` and ``hypothetical`` findings are denied or only mentioned as
instructions.

Matching is normalised (lower case, punctuation removed) and phrase-contained in either
direction; each expected item can match one extracted item at most. Diagnosis precision and
recall count confirmed current diagnoses. A context-rule error is a finding of that context
reported as something it is not:

* negation / hypothetical - reported as a current confirmed (or, hypothetical, uncertain)
  diagnosis;
* history - reported as a current diagnosis;
* family - reported as the patient's diagnosis, current or past (not checked when the patient
  is annotated with the same condition);
* uncertainty - reported as confirmed (and ``uncertain_recall`` says how many were found
  as uncertain).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
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
DATASET_DIR = Path(__file__).parent / "dataset"
DEFAULT_DATASET = DATASET_DIR / "notes.jsonl"
HOLDOUT_DATASET = DATASET_DIR / "holdout.jsonl"
CONTEXT_RULES = ("negation", "history", "family", "hypothetical", "uncertainty")


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


def _engine(text: str) -> dict[str, Any]:
    return analyze_note(text).as_dict()


def evaluate_dataset(
    path: str | Path = DEFAULT_DATASET, *, reader: Callable[[str], dict[str, Any]] = _engine
) -> dict[str, Any]:
    """Run ``reader`` (default: :func:`analyze_note`) on every note of ``path`` and compute
    metrics. Another reader (``bench/notes_medspacy.py``) returns the same shape."""
    notes = _load(path)
    type_ok = 0
    vitals = {name: {"expected": 0, "exact": 0, "unexpected": 0} for name in VITAL_NAMES}
    counts = {key: [0, 0, 0] for key in ("medications", "allergies", "diagnoses")}
    attribute = {key: [0, 0] for key in ("status", "route", "frequency")}
    nka_ok = 0
    errors = dict.fromkeys(CONTEXT_RULES, 0)
    checked = dict.fromkeys(CONTEXT_RULES, 0)
    uncertain_found = 0
    failures: list[dict[str, Any]] = []
    for note in notes:
        exp = note["expected"]
        sd = reader(note["text"])
        data = sd["structured_data"]
        nid = note["id"]
        if sd["note_type"] == exp["note_type"]:
            type_ok += 1
        else:
            failures.append({"id": nid, "field": "note_type", "got": sd["note_type"]})
        for name in VITAL_NAMES:
            got = data["vitals"].get(name)
            if name in exp["vitals"]:
                vitals[name]["expected"] += 1
                if got is not None and abs(float(got["value"]) - float(exp["vitals"][name])) < 0.05:
                    vitals[name]["exact"] += 1
                else:
                    failures.append({"id": nid, "field": name, "got": got and got["value"]})
            elif got is not None:
                vitals[name]["unexpected"] += 1
                failures.append({"id": nid, "field": f"unexpected {name}", "got": got["value"]})
        exp_meds = [m["name"] for m in exp["medications"]]
        got_meds = [m["name"] for m in data["medications"]]
        pairs = _match(exp_meds, got_meds)
        for i, j in pairs:
            want, have = exp["medications"][i], data["medications"][j]
            for key in attribute:
                if key in want:
                    attribute[key][1] += 1
                    if want[key] == have.get(key):
                        attribute[key][0] += 1
                    else:
                        failures.append(
                            {
                                "id": nid,
                                "field": f"medication {key}",
                                "got": f"{have['name']}: {have.get(key)}",
                            }
                        )
        _tally(counts["medications"], len(pairs), len(got_meds), len(exp_meds))
        _misses(failures, nid, "medication", exp_meds, got_meds, pairs)
        got_all = [a["substance"] for a in data["allergies"]]
        _tally(
            counts["allergies"],
            len(_match(exp["allergies"], got_all)),
            len(got_all),
            len(exp["allergies"]),
        )
        nka_ok += data["no_known_allergies"] == exp["no_known_allergies"]
        current = data["diagnoses"]
        confirmed = [d["text"] for d in current if d.get("certainty", "confirmed") == "confirmed"]
        uncertain = [d["text"] for d in current if d.get("certainty") == "uncertain"]
        anywhere = [d["text"] for d in current]
        past = [d["text"] for d in data.get("past_diagnoses", [])]
        dx_pairs = _match(exp["diagnoses"], confirmed)
        _tally(counts["diagnoses"], len(dx_pairs), len(confirmed), len(exp["diagnoses"]))
        _misses(failures, nid, "diagnosis", exp["diagnoses"], confirmed, dx_pairs)
        wrong_places = {
            "negation": ("negated", confirmed),
            "history": ("history", anywhere),
            "family": ("family", anywhere + past),
            "hypothetical": ("hypothetical", anywhere),
            "uncertainty": ("uncertain", confirmed),
        }
        own = [*exp["diagnoses"], *exp.get("history", []), *exp.get("uncertain", [])]
        for rule, (key, wrong) in wrong_places.items():
            for finding in exp.get(key, []):
                if rule == "family" and any(phrase_match(finding, o) for o in own):
                    continue  # the patient has it too: "h/o breast cancer; mother with it"
                checked[rule] += 1
                if any(phrase_match(finding, d) for d in wrong):
                    errors[rule] += 1
                    failures.append({"id": nid, "field": rule, "got": finding})
        for finding in exp.get("uncertain", []):
            uncertain_found += any(phrase_match(finding, d) for d in uncertain)
    n = len(notes)
    expected_vitals = sum(v["expected"] for v in vitals.values())
    return {
        "notes": n,
        "type_accuracy": round(type_ok / n, 3) if n else 0.0,
        "vitals": {
            name: {**v, "rate": round(v["exact"] / v["expected"], 3) if v["expected"] else 1.0}
            for name, v in vitals.items()
        },
        "vitals_exact": round(sum(v["exact"] for v in vitals.values()) / expected_vitals, 3)
        if expected_vitals
        else 1.0,
        "medications": {
            **_prf(*counts["medications"]),
            **{
                f"{key}_accuracy": round(ok / total, 3) if total else 1.0
                for key, (ok, total) in attribute.items()
            },
        },
        "allergies": {
            **_prf(*counts["allergies"]),
            "nka_accuracy": round(nka_ok / n, 3) if n else 0.0,
        },
        "diagnoses": _prf(*counts["diagnoses"]),
        "context_errors": errors,
        "context_checked": checked,
        "uncertain_recall": round(uncertain_found / checked["uncertainty"], 3)
        if checked["uncertainty"]
        else 1.0,
        "negation_errors": errors["negation"],
        "negation_checked": checked["negation"],
        "failures": failures,
    }


def _misses(
    failures: list[dict[str, Any]],
    nid: str,
    field: str,
    expected: Sequence[str],
    got: Sequence[str],
    pairs: list[tuple[int, int]],
) -> None:
    matched_e = {i for i, _ in pairs}
    matched_g = {j for _, j in pairs}
    for i, item in enumerate(expected):
        if i not in matched_e:
            failures.append({"id": nid, "field": f"missed {field}", "got": item})
    for j, item in enumerate(got):
        if j not in matched_g:
            failures.append({"id": nid, "field": f"extra {field}", "got": item})


def _tally(bucket: list[int], tp: int, n_got: int, n_expected: int) -> None:
    bucket[0] += tp
    bucket[1] += n_got - tp
    bucket[2] += n_expected - tp


def format_report(metrics: dict[str, Any], *, failures: bool = False) -> str:
    """Human-readable multi-line summary of :func:`evaluate_dataset` output."""
    lines = [
        f"Notes evaluated: {metrics['notes']}",
        f"Note type accuracy: {metrics['type_accuracy']:.1%}",
        f"Vitals exact: {metrics['vitals_exact']:.1%} (exact / expected per vital:)",
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
            extra = (
                f"  status {m['status_accuracy']:.1%}, route {m['route_accuracy']:.1%},"
                f" frequency {m['frequency_accuracy']:.1%}"
            )
        if "nka_accuracy" in m:
            extra = f"  NKA flag acc {m['nka_accuracy']:.1%}"
        lines.append(
            f"{key.capitalize():<12} P {m['precision']:.1%}  R {m['recall']:.1%}"
            f"  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']}){extra}"
        )
    lines.append("Context-rule errors (errors / findings checked):")
    for rule in CONTEXT_RULES:
        errors, checked = metrics["context_errors"][rule], metrics["context_checked"][rule]
        lines.append(f"  {rule:<13} {errors:>3} / {checked}")
    recall = metrics["uncertain_recall"]
    lines.append(f"  uncertain findings reported as uncertain: {recall:.1%}")
    if failures:
        lines.append("Failures:")
        lines.extend(f"  {f['id']}: {f['field']} -> {f['got']}" for f in metrics["failures"])
    return "\n".join(lines)
