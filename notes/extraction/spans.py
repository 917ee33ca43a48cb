"""Span helpers shared by all extractors.

Every extracted item carries a span ``{"text", "start", "end"}`` whose offsets index into the
original note, so a UI can highlight the evidence and ``text == note[start:end]`` always holds.
"""

from __future__ import annotations

import re
from typing import Any

Span = dict[str, Any]

_WS = " \t\r\n\f\v"
_NORM_RE = re.compile(r"[^a-z0-9]+")


def make_span(text: str, start: int, end: int, *, strip: str = _WS) -> Span:
    """Build a span over ``text[start:end]`` with the given characters trimmed from both ends.

    Trimming moves the offsets, never the text, so the invariant
    ``span["text"] == text[span["start"]:span["end"]]`` holds for every span produced here.
    """
    start = max(0, start)
    end = min(len(text), end)
    while start < end and text[start] in strip:
        start += 1
    while end > start and text[end - 1] in strip:
        end -= 1
    return {"text": text[start:end], "start": start, "end": end}


def normalize(value: str) -> str:
    """Lower-case, turn punctuation into spaces and collapse whitespace (used for matching)."""
    return " ".join(_NORM_RE.sub(" ", value.lower()).split())


def phrase_match(a: str, b: str) -> bool:
    """True when one normalised phrase occurs inside the other on word boundaries."""
    na, nb = normalize(a), normalize(b)
    if not na or not nb:
        return False
    return f" {na} " in f" {nb} " or f" {nb} " in f" {na} "
