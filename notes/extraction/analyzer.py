"""Entry point: ``analyze_note`` runs every extractor and packs the result."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from .allergies import extract_allergies
from .classify import NOTE_TYPES, classify_note
from .diagnoses import extract_diagnoses
from .medications import extract_medications
from .sections import sectionize
from .vitals import extract_vitals

# Bumped whenever a rule change can change what a note yields; stored in every note's
# structured_data so older readings can be found and re-read (``manage.py reprocess_notes``).
ENGINE_VERSION = "2.0"

# Markdown emphasis and code marks ("**Allergies:** sulfa") are read as spaces of the same
# length, so offsets still index into the original note.
_MARKDOWN_MARKS_RE = re.compile(r"\*\*|__|`")


def _mask_markdown(text: str) -> str:
    return _MARKDOWN_MARKS_RE.sub(lambda m: " " * len(m.group()), text)


def _restore_span_texts(value: Any, original: str) -> None:
    """Point every span's ``text`` back at the original (unmasked) note."""
    if isinstance(value, dict):
        if {"text", "start", "end"} <= value.keys() and isinstance(value["start"], int):
            value["text"] = original[value["start"] : value["end"]]
        for item in value.values():
            _restore_span_texts(item, original)
    elif isinstance(value, list):
        for item in value:
            _restore_span_texts(item, original)


@dataclass(frozen=True)
class NoteAnalysis:
    """Result of reading one note. Every span indexes into the original text."""

    sections: dict[str, dict[str, Any]] | None
    note_type: str
    note_type_source: str
    note_type_confidence: float | None
    structured_data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable deep copy."""
        return dataclasses.asdict(self)


def analyze_note(text: str, *, note_type: str | None = None) -> NoteAnalysis:
    """Analyse a clinical note.

    ``note_type`` given by the client is kept as is (normalised to lower case) and must be one of
    ``NOTE_TYPES``; otherwise the type is inferred and a confidence is reported.

    ``structured_data`` holds ``engine_version``, the vitals, medications (with status
    active / stopped / held and the ``change`` the note makes), allergies and the NKDA flag, the
    current ``diagnoses`` (each ``confirmed`` or ``uncertain``), ``past_diagnoses``
    ("h/o", "s/p", "resolved"), ``family_history`` (a relative's conditions, never the
    patient's) and ``excluded_diagnoses``: findings set aside as negated or hypothetical (with
    their assertion), so a reviewer can see what was deliberately not reported.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    original = text
    text = _mask_markdown(text)
    sections = sectionize(text)
    if note_type is not None:
        kind = note_type.strip().lower()
        if kind not in NOTE_TYPES:
            raise ValueError(f"unknown note_type {note_type!r}; expected one of {NOTE_TYPES}")
        source, confidence = "client", None
    else:
        kind, conf = classify_note(text, is_soap=sections is not None)
        source, confidence = "auto", conf
    allergies = extract_allergies(text)
    diagnoses = extract_diagnoses(text, sections)
    structured: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "vitals": extract_vitals(text),
        "medications": extract_medications(text, excluded=allergies.regions),
        "allergies": allergies.items,
        "no_known_allergies": allergies.no_known_allergies,
        "diagnoses": diagnoses.items,
        "past_diagnoses": diagnoses.past,
        "family_history": diagnoses.family,
        "excluded_diagnoses": diagnoses.excluded,
    }
    if text != original:
        _restore_span_texts(sections, original)
        _restore_span_texts(structured, original)
    return NoteAnalysis(
        sections=sections,
        note_type=kind,
        note_type_source=source,
        note_type_confidence=confidence,
        structured_data=structured,
    )
