"""Allergy extraction: "Allergies: ..." lists, "allergic to ..." phrases and NKDA forms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .spans import make_span

_NKA_RE = re.compile(
    r"\b(?:NKDA|NKA|no\s+known\s+(?:drug\s+|medication\s+)?allerg(?:ies|y)|"
    r"no\s+(?:drug\s+)?allergies|allergies\s*[:\-]?\s*(?:none(?:\s+known)?|nil|denied|denies)\b)",
    re.IGNORECASE,
)
# "Allergies: ..." anywhere (not only at line start, notes often run sentences together).
_LIST_RE = re.compile(
    r"\b(?:allergies|allergy)(?:\s*/\s*adverse\s+(?:drug\s+)?reactions)?[ \t]*[:\-][ \t]*"
    r"(?P<body>[^\n]*?)(?=\.\s+[A-Z]|\.?[ \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)
_LIST_BULLET_RE = re.compile(r"[ \t]*\n[ \t]*(?:[-*\u2022]|\d{1,2}[.)])[ \t]*(?P<item>[^\n]+)")
_ALLERGIC_TO_RE = re.compile(
    r"\ballerg(?:ic|y|ies)\s+to\s+(?P<body>[^.;\n]+)",
    re.IGNORECASE,
)
_ITEM_SPLIT_RE = re.compile(r"\s*(?:[,;]|\band\b)\s*(?![^()]*\))", re.IGNORECASE)
_REACTION_RE = re.compile(
    r"^(?P<sub>.+?)\s*(?:\((?P<paren>[^)]*)\)|(?:\s+-+>?|\s*->|\s*\u2192|\s+\u2013|\s+causes?|"
    r"\s+caused|:)\s+(?P<tail>.+))\s*$",
    re.IGNORECASE,
)
_LEADING_RE = re.compile(r"^(?:allergic\s+to|allergy\s+to|to)\s+", re.IGNORECASE)
_PAREN_RE = re.compile(r"\s*\([^)]*\)")
_NOT_SUBSTANCE = re.compile(
    r"^(?:none(?: known)?|nil|nkda|nka|no known.*|reviewed|unknown|see .*|as above|denies|n/?a)$",
    re.IGNORECASE,
)


@dataclass
class AllergyResult:
    """Allergy items, the NKDA flag and the text regions that were read as allergy statements.

    ``regions`` lets the medication extractor ignore drug names that only appear as allergens.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    no_known_allergies: bool = False
    regions: list[tuple[int, int]] = field(default_factory=list)


def _parse_item(text: str, start: int, end: int) -> dict[str, Any] | None:
    raw = text[start:end]
    lead = _LEADING_RE.match(raw)
    offset = lead.end() if lead else 0
    body = raw[offset:].strip().rstrip(".")
    if not body:
        return None
    reaction: str | None = None
    substance = body
    m = _REACTION_RE.match(body)
    if m:
        substance = m.group("sub")
        reaction = m.group("paren") or m.group("tail")
    substance = _PAREN_RE.sub("", substance).strip(" -:,.")
    if reaction is not None:
        reaction = _PAREN_RE.sub("", reaction).strip(" -:,.").lower() or None
    if not substance or _NOT_SUBSTANCE.match(substance) or len(substance) > 60:
        return None
    span = make_span(text, start + offset, end, strip=" \t\r\n.,;")
    return {"substance": substance.lower(), "reaction": reaction, "span": span}


def _split_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    cursor = start
    for m in _ITEM_SPLIT_RE.finditer(text, start, end):
        pieces.append((cursor, m.start()))
        cursor = m.end()
    pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def extract_allergies(text: str) -> AllergyResult:
    """Find allergies; NKDA/NKA/"no known allergies" sets ``no_known_allergies``."""
    result = AllergyResult()
    seen: set[str] = set()

    def add_body(b0: int, b1: int) -> None:
        result.regions.append((b0, b1))
        for a, b in _split_items(text, b0, b1):
            item = _parse_item(text, a, b)
            if item is not None and item["substance"] not in seen:
                seen.add(item["substance"])
                result.items.append(item)

    for m in _NKA_RE.finditer(text):
        result.no_known_allergies = True
        result.regions.append((m.start(), m.end()))
    for m in _LIST_RE.finditer(text):
        b0, b1 = m.span("body")
        result.regions.append((m.start(), b1))
        if text[b0:b1].strip():
            add_body(b0, b1)
        else:  # heading followed by a bulleted list
            pos = m.end()
            while bullet := _LIST_BULLET_RE.match(text, pos):
                add_body(*bullet.span("item"))
                pos = bullet.end()
    for m in _ALLERGIC_TO_RE.finditer(text):
        add_body(m.start("body"), m.end("body"))
    if result.items:
        # An explicit allergen overrides a stray "NKA" elsewhere (e.g. copied-forward text).
        result.no_known_allergies = False
    return result
