"""Checks the model's medication and diagnosis lists against the source record.

Only these two lists are grounded: they are the ones a reader acts on and the ones where
an invented item is most harmful. An item that cannot be matched is moved to
``unverified`` (never silently dropped) so a reviewer can see it. The narrative, the
observations and the plan are *not* grounded — free prose cannot be matched reliably with
string rules; the prompt forbids invented facts and the lists carry the checked data.

Matching rules, after :func:`normalise` (lower-case, punctuation stripped, spaces collapsed):

* medication: the drug name (first word with a letter) equals the first word of a
  structured medication name, or appears as a word in any note text;
* diagnosis: either string contains the other, or the token-set overlap
  ``|a & b| / |a | b|`` is at least 0.6, against structured diagnoses; or the diagnosis
  appears as a phrase in the note text, or all of its meaningful words occur in one
  sentence of it ("pneumonia, community-acquired"). Word overlap is not applied to the
  whole free text: a long note contains enough common words to "verify" almost anything.
  Glossary synonyms count ("high blood pressure" is verified by "hypertension").

Known limits: a drug that the notes mention only to exclude it ("no aspirin") still
counts as grounded; grounding proves presence in the record, not clinical correctness.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .glossary import entry_for, normalise

OVERLAP_THRESHOLD = 0.6
_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "and", "or", "with", "without", "in", "on", "to", "for", "by"}
)


@dataclass(frozen=True)
class Evidence:
    medication_names: frozenset[str]
    diagnoses: tuple[str, ...]
    text: str  # normalised, space-padded concatenation of all free text
    words: frozenset[str]
    sentences: tuple[frozenset[str], ...]

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Evidence:
        med_names: set[str] = set()
        diagnoses: list[str] = []
        chunks: list[str] = []
        for note in record.get("notes") or []:
            chunks.append(str(note.get("content") or ""))
            sections = note.get("sections") or {}
            if isinstance(sections, Mapping):
                for section in sections.values():
                    if isinstance(section, Mapping):
                        chunks.append(str(section.get("text") or ""))
                    elif isinstance(section, str):
                        chunks.append(section)
            data = note.get("structured_data") or {}
            for med in data.get("medications") or []:
                name = normalise(str(med.get("name") or ""))
                if name:
                    med_names.add(name.split()[0])
                    chunks.append(name)
            for dx in data.get("diagnoses") or []:
                text = normalise(str(dx.get("text") or ""))
                if text:
                    diagnoses.append(text)
        for it in record.get("interactions") or []:
            chunks.append(str(it.get("notes") or ""))
        text = normalise(" ".join(chunks))
        sentences = tuple(
            frozenset(normalise(part).split())
            for chunk in chunks
            for part in re.split(r"[.;!?\n]+", chunk)
            if part.strip()
        )
        return cls(
            frozenset(med_names), tuple(diagnoses), f" {text} ", frozenset(text.split()), sentences
        )


def _drug_name(item: str) -> str:
    for word in normalise(item).split():
        if any(c.isalpha() for c in word):
            return word
    return ""


def medication_grounded(item: str, evidence: Evidence) -> bool:
    name = _drug_name(item)
    return bool(name) and (name in evidence.medication_names or name in evidence.words)


def _tokens(text: str) -> set[str]:
    return {t for t in text.split() if t not in _STOPWORDS}


def _diagnosis_match(candidate: str, evidence: Evidence) -> bool:
    if not candidate:
        return False
    tokens = _tokens(candidate)
    for source in evidence.diagnoses:
        if candidate in source or source in candidate:
            return True
        other = _tokens(source)
        if tokens and other and len(tokens & other) / len(tokens | other) >= OVERLAP_THRESHOLD:
            return True
    if f" {candidate} " in evidence.text:
        return True
    return bool(tokens) and any(tokens <= sentence for sentence in evidence.sentences)


def diagnosis_grounded(item: str, evidence: Evidence) -> bool:
    if _diagnosis_match(normalise(item), evidence):
        return True
    entry = entry_for(item)
    if entry is None:
        return False
    return any(_diagnosis_match(normalise(term), evidence) for term in entry.terms)


def partition(
    items: Iterable[str], grounded: Callable[[str, Evidence], bool], evidence: Evidence
) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    unverified: list[str] = []
    for item in items:
        (kept if grounded(item, evidence) else unverified).append(item)
    return kept, unverified


def ground(
    record: Mapping[str, Any], medications: Iterable[str], diagnoses: Iterable[str]
) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Return ``(medications, diagnoses, unverified)`` with unmatched items moved out."""
    evidence = Evidence.from_record(record)
    meds, bad_meds = partition(medications, medication_grounded, evidence)
    dxs, bad_dxs = partition(diagnoses, diagnosis_grounded, evidence)
    return meds, dxs, {"medications": bad_meds, "diagnoses": bad_dxs}
