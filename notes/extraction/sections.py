"""SOAP sectionizer plus a generic heading finder used by the other extractors.

A SOAP heading sits at the start of a line (optionally after markdown ``#`` marks), or inline
after a sentence end when it carries a colon ("S: cough. O: BP 138/86. A: ..."), because many
notes are typed as one paragraph. Single letters (``S``, ``O``, ``A``, ``P``) need a colon; words
("Plan", "Assessment", ...) need either a colon or to be alone on the line. This keeps
"A 45-year-old ..." and "Plan to discuss ..." in prose from being read as headings. A combined
heading ("A/P", "Assessment and Plan", "Assessment & Plan", "Impression/Plan") is one section,
``assessment_and_plan``, labelled with the heading as written; its text is never copied into
two sections. A note is SOAP when at least two distinct headings are found; each section runs
to the next SOAP heading (sub-headings such as "Vitals:" or "Exam:" stay inside it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .spans import make_span

SOAP_KEYS = ("subjective", "objective", "assessment", "assessment_and_plan", "plan")
COMBINED_KEY = "assessment_and_plan"

_COMBINED = r"a\s*/\s*p|a\s*&\s*p|assessment\s*(?:and|&|/)\s*plan|impression\s*(?:and|&|/)\s*plan"
_WORDS = r"subjective|objective|assessment|impression|plan"
_LETTERS = r"[soap]"

SOAP_HEADING_RE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?"
    rf"(?:(?P<combined>{_COMBINED})|(?P<word>{_WORDS})|(?P<letter>{_LETTERS})(?=\s*:))"
    r"(?:\*\*)?[ \t]*(?:(?P<colon>:)(?:\*\*)?|(?=[ \t]*(?:\r?\n|$)))",
    re.IGNORECASE | re.MULTILINE,
)
# The same labels inside a line, after a sentence end; a colon is then required.
INLINE_SOAP_HEADING_RE = re.compile(
    r"(?<=[.!?;])[ \t]+(?P<head>"
    rf"(?:(?P<combined>{_COMBINED})|(?P<word>{_WORDS})|(?P<letter>{_LETTERS}))"
    r"[ \t]*(?P<colon>:))(?!//)",
    re.IGNORECASE,
)

# Generic "Label:" headings at line start (at most six words, no digits), or a short
# ALL-CAPS line standing alone.
GENERIC_HEADING_RE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?"
    r"(?P<label>[A-Za-z][A-Za-z&/'()-]*(?:[ \t]+[A-Za-z&/'()-]+){0,5}?)"
    r"(?:\*\*)?[ \t]*:(?!//)"
    r"|^[ \t]*(?P<caps>[A-Z][A-Z&/' -]{2,50}[A-Z])[ \t]*$",
    re.MULTILINE,
)

_LETTER_KEY = {"s": "subjective", "o": "objective", "a": "assessment", "p": "plan"}


@dataclass(frozen=True)
class Heading:
    """A heading found in the note: its label, where it starts and where its body starts."""

    label: str
    start: int
    body_start: int
    keys: tuple[str, ...] = ()


def _soap_keys(match: re.Match[str]) -> tuple[str, ...]:
    if match.group("combined"):
        return (COMBINED_KEY,)
    word = match.group("word")
    if word:
        word = word.lower()
        return ("assessment",) if word == "impression" else (word,)
    return (_LETTER_KEY[match.group("letter").lower()],)


def _label(raw: str) -> str:
    return raw.strip().strip("#*").strip().rstrip(":").strip("*").strip()


def find_soap_headings(text: str) -> list[Heading]:
    """All SOAP headings (line-start and inline) in document order."""
    found = [
        Heading(_label(m.group(0)), m.start(), m.end(), _soap_keys(m))
        for m in SOAP_HEADING_RE.finditer(text)
    ]
    found += [
        Heading(_label(m.group("head")), m.start("head"), m.end(), _soap_keys(m))
        for m in INLINE_SOAP_HEADING_RE.finditer(text)
    ]
    return sorted(found, key=lambda h: h.start)


def find_generic_headings(text: str) -> list[Heading]:
    """All "Label:" and ALL-CAPS headings in document order (SOAP ones included)."""
    out: list[Heading] = []
    for m in GENERIC_HEADING_RE.finditer(text):
        label = m.group("label") or m.group("caps") or ""
        start = m.start("label") if m.group("label") else m.start("caps")
        out.append(Heading(" ".join(label.split()), start, m.end()))
    return out


def sectionize(text: str) -> dict[str, dict[str, Any]] | None:
    """Split a SOAP note into sections, or return ``None`` when fewer than two headings exist.

    The first occurrence of a section wins if a heading repeats. A combined heading's section
    carries ``label`` (the heading as written).
    """
    headings = find_soap_headings(text)
    if len(headings) < 2:
        return None
    sections: dict[str, dict[str, Any]] = {}
    for i, heading in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        span = make_span(text, heading.body_start, end)
        for key in heading.keys:
            if key == COMBINED_KEY:
                span = {**span, "label": heading.label}
            sections.setdefault(key, dict(span))
    return {key: sections[key] for key in SOAP_KEYS if key in sections}
