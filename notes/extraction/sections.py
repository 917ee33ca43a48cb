"""SOAP sectionizer plus a generic heading finder used by the other extractors.

A SOAP heading must sit at the start of a line (optionally after markdown ``#`` marks). Single
letters (``S``, ``O``, ``A``, ``P``) need a colon; words ("Plan", "Assessment", ...) need either a
colon or to be alone on the line. This keeps "A 45-year-old ..." and "Plan to discuss ..." in
prose from being read as headings. Combined headings ("A/P", "Assessment and Plan",
"Impression/Plan") fill both ``assessment`` and ``plan`` with the same span and count as one
heading. A note is SOAP when at least two distinct headings are found; each section runs to
the next SOAP heading (sub-headings such as "Vitals:" or "Exam:" stay inside it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .spans import make_span

SOAP_KEYS = ("subjective", "objective", "assessment", "plan")

_COMBINED = r"a\s*/\s*p|a\s*&\s*p|assessment\s*(?:and|&|/)\s*plan|impression\s*(?:and|&|/)\s*plan"
_WORDS = r"subjective|objective|assessment|impression|plan"
_LETTERS = r"[soap]"

SOAP_HEADING_RE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?"
    rf"(?:(?P<combined>{_COMBINED})|(?P<word>{_WORDS})|(?P<letter>{_LETTERS})(?=\s*:))"
    r"(?:\*\*)?[ \t]*(?:(?P<colon>:)(?:\*\*)?|(?=[ \t]*(?:\r?\n|$)))",
    re.IGNORECASE | re.MULTILINE,
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
        return ("assessment", "plan")
    word = match.group("word")
    if word:
        word = word.lower()
        return ("assessment",) if word == "impression" else (word,)
    return (_LETTER_KEY[match.group("letter").lower()],)


def find_soap_headings(text: str) -> list[Heading]:
    """All SOAP headings in document order."""
    return [
        Heading(m.group(0).strip().rstrip(":").strip(), m.start(), m.end(), _soap_keys(m))
        for m in SOAP_HEADING_RE.finditer(text)
    ]


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

    The first occurrence of a section wins if a heading repeats.
    """
    headings = find_soap_headings(text)
    if len(headings) < 2:
        return None
    sections: dict[str, dict[str, Any]] = {}
    for i, heading in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        span = make_span(text, heading.body_start, end)
        for key in heading.keys:
            sections.setdefault(key, dict(span))
    return {key: sections[key] for key in SOAP_KEYS if key in sections}
