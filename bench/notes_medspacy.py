"""medspaCy side by side with the note engine on the shipped datasets (diagnoses and context).

medspaCy is not a project dependency. Run it from a throwaway virtualenv outside the repo::

    python3 -m venv /tmp/medspacy-venv && /tmp/medspacy-venv/bin/pip install medspacy==1.3.1
    /tmp/medspacy-venv/bin/python bench/notes_medspacy.py

spaCy models cannot be downloaded here, so medspaCy runs on a blank English pipeline with its
rule-based parts: PyRuSH sentences, the target matcher, ConText and the sectionizer. It has no
diagnosis extractor of its own, so it is given a vocabulary: the engine's condition names and
abbreviations plus every phrase annotated in the *tuning* set (never the held-out one). A
mention is a current confirmed diagnosis when ConText marks it neither negated, historical,
family, hypothetical nor uncertain, and - when the sectionizer finds an assessment / problem
section - it lies in one. The engine's own figures come from the same scoring code
(``notes.extraction.evaluation``).
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notes.extraction import evaluate_dataset  # noqa: E402
from notes.extraction.conditions import ABBREVIATIONS, CONDITION_NAMES  # noqa: E402
from notes.extraction.evaluation import DEFAULT_DATASET, HOLDOUT_DATASET  # noqa: E402

ASSESSMENT_SECTIONS = {"observation_and_plan", "problem_list", "diagnoses", "assessment"}


def _vocabulary() -> set[str]:
    words = set(CONDITION_NAMES) | set(ABBREVIATIONS)
    for line in DEFAULT_DATASET.read_text("utf-8").splitlines():
        exp = json.loads(line)["expected"]
        for key in ("diagnoses", "negated", "uncertain", "history", "family", "hypothetical"):
            words.update(exp.get(key, []))
    return {w for w in words if len(w) > 1}


def _pipeline() -> Any:
    import medspacy
    from loguru import logger
    from medspacy.target_matcher import TargetRule

    logger.remove()  # PyRuSH logs every token at DEBUG
    logging.getLogger().setLevel(logging.WARNING)
    nlp = medspacy.load(
        medspacy_enable=[
            "medspacy_pyrush",
            "medspacy_target_matcher",
            "medspacy_context",
            "medspacy_sectionizer",
        ]
    )
    rules = []
    for phrase in sorted(_vocabulary()):
        if phrase.isupper() or phrase in ABBREVIATIONS:
            rules.append(TargetRule(phrase, "PROBLEM", pattern=[{"TEXT": phrase}]))
        else:
            rules.append(TargetRule(phrase, "PROBLEM"))
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    return nlp


def _reader(nlp: Any, timings: list[float]) -> Any:
    def read(text: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        doc = nlp(text)
        timings.append((time.perf_counter() - t0) * 1000.0)
        in_assessment = any((e._.section_category or "") in ASSESSMENT_SECTIONS for e in doc.ents)
        current: list[dict[str, Any]] = []
        past: list[dict[str, Any]] = []
        for ent in doc.ents:
            if ent._.is_negated or ent._.is_family or ent._.is_hypothetical:
                continue
            if ent._.is_historical:
                past.append({"text": ent.text})
                continue
            if in_assessment and (ent._.section_category or "") not in ASSESSMENT_SECTIONS:
                continue
            certainty = "uncertain" if ent._.is_uncertain else "confirmed"
            if all(d["text"].lower() != ent.text.lower() for d in current):
                current.append({"text": ent.text, "certainty": certainty})
        return {
            "note_type": "other",
            "structured_data": {
                "vitals": {},
                "medications": [],
                "allergies": [],
                "no_known_allergies": False,
                "diagnoses": current,
                "past_diagnoses": past,
            },
        }

    return read


def _row(name: str, m: dict[str, Any], p95: float | None) -> str:
    d = m["diagnoses"]
    errors = " ".join(f"{k}={v}" for k, v in m["context_errors"].items())
    timing = f"p95 {p95:.2f} ms" if p95 is not None else ""
    return (
        f"  {name:<10} diagnoses P {d['precision']:.1%} R {d['recall']:.1%}"
        f" | context errors {errors} | uncertain found {m['uncertain_recall']:.0%} | {timing}"
    )


def main() -> None:
    t0 = time.perf_counter()
    nlp = _pipeline()
    print(f"medspaCy pipeline built in {time.perf_counter() - t0:.1f} s: {nlp.pipe_names}")
    for title, path in (("tuning", DEFAULT_DATASET), ("held-out", HOLDOUT_DATASET)):
        timings: list[float] = []
        ours = evaluate_dataset(path)
        theirs = evaluate_dataset(path, reader=_reader(nlp, timings))
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(
            f"{title} ({ours['notes']} notes), median medspaCy {statistics.median(timings):.2f} ms"
        )
        print(_row("engine", ours, None))
        print(_row("medspaCy", theirs, p95))


if __name__ == "__main__":
    main()
