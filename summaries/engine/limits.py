"""Word budgets for the narrative and the hard cap enforced after generation."""

from __future__ import annotations

import re
from typing import Final, Literal

Length = Literal["brief", "standard", "detailed"]

#: Target length the prompt asks for / the local summarizer aims at.
WORD_TARGETS: Final[dict[str, int]] = {"brief": 60, "standard": 150, "detailed": 350}
#: Hard caps: anything longer is truncated by :func:`enforce_word_cap`.
WORD_CAPS: Final[dict[str, int]] = {"brief": 80, "standard": 200, "detailed": 450}

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
ELLIPSIS: Final = "…"


def word_target(length: str) -> int:
    return WORD_TARGETS[length]


def word_cap(length: str) -> int:
    return WORD_CAPS[length]


def count_words(text: str) -> int:
    return len(text.split())


_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "prof", "st", "vs", "e.g", "i.e", "approx", "no", "fig"}
)


def split_sentences(text: str) -> list[str]:
    """Split on ., ! or ? followed by whitespace, but not after titles like "Dr."."""
    pieces = [p for p in _SENTENCE_END.split(text.strip()) if p]
    sentences: list[str] = []
    for piece in pieces:
        if sentences:
            last_word = sentences[-1].rsplit(None, 1)[-1].lower().rstrip(".")
            if last_word.lstrip("([") in _ABBREVIATIONS:
                sentences[-1] = f"{sentences[-1]} {piece}"
                continue
        sentences.append(piece)
    return sentences


def enforce_word_cap(text: str, cap: int) -> str:
    """Return ``text`` limited to ``cap`` words.

    Whole sentences are kept while they fit. If the sentences that fit make up less than
    half of the cap (one very long sentence, or text without punctuation), cutting at a
    sentence boundary would throw away too much, so the text is cut at the word cap instead
    and ends with an ellipsis.
    """
    text = " ".join(text.split())
    if count_words(text) <= cap:
        return text
    kept: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        n = count_words(sentence)
        if used + n > cap:
            break
        kept.append(sentence)
        used += n
    if kept and used >= cap // 2:
        return " ".join(kept)
    words = text.split()[:cap]
    return " ".join(words).rstrip(",;:-—") + ELLIPSIS
