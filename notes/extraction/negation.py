"""ConText-style assertion detection (affirmed / negated / hypothetical).

Trigger phrases open a scope that runs *forward* ("no", "denies", "rule out") or *backward*
("... was ruled out", "... not excluded") until a termination cue ("but", "however", ";", a
sentence end) closes it.

Decisions that change what counts as a diagnosis:

* "resolved" / "improved" are **not** negation cues: "AKI, resolved" in a discharge diagnosis
  list still records a condition the patient had during the stay.
* Uncertain or hypothetical mentions ("rule out PE", "possible carotid stenosis", "concern for",
  "evaluate for", "not ruled out") are *hypothetical*: neither confirmed nor negated. The
  diagnosis extractor keeps them out of the diagnosis list.
* When a mention carries both a forward hypothetical cue and a backward negation
  ("r/o MI - ruled out"), the negation wins because it reports the outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AFFIRMED = "affirmed"
NEGATED = "negated"
HYPOTHETICAL = "hypothetical"

_FORWARD_NEGATED = (
    r"no evidence of|no evidence for|no signs? or symptoms? of|no signs? of|no history of|"
    r"no hx of|no further|negative for|neg for|free of|absence of|ruled out|rules out|"
    r"not consistent with|not suggestive of|not significant for|denies|denied|denying|"
    r"never had|without|w/o|not|no"
)
_FORWARD_HYPOTHETICAL = (
    r"to rule out|rule out|rule-out|r/o|evaluate for|evaluation for|eval for|"
    r"concerning for|concern for|worrisome for|suspicious for|suspected|suspect|possible|"
    r"possibly|questionable|cannot exclude|cannot rule out|differential includes|versus|vs\.?"
)
_BACKWARD_HYPOTHETICAL = (
    r"(?:has |have |was |were |is |are )?not (?:yet )?(?:been )?(?:ruled out|excluded)|"
    r"cannot be (?:ruled out|excluded)|(?:is |are )(?:possible|suspected|questionable)|"
    r"(?:is |are )?unlikely"
)
_BACKWARD_NEGATED = (
    r"(?:(?:was|were|is|are|has been|have been|been)\s+)?(?:ruled out|excluded|negative|absent)|"
    r"(?:was |were |is |are )?not (?:seen|present|found|identified|appreciated|detected)"
)

_FORWARD_RE = re.compile(
    rf"(?<![\w/])(?:(?P<{NEGATED}>{_FORWARD_NEGATED})|(?P<{HYPOTHETICAL}>{_FORWARD_HYPOTHETICAL}))"
    r"(?![\w/])",
    re.IGNORECASE,
)
_BACKWARD_RE = re.compile(
    rf"(?<![\w/])(?:(?P<{HYPOTHETICAL}>{_BACKWARD_HYPOTHETICAL})|(?P<{NEGATED}>{_BACKWARD_NEGATED}))"
    r"(?![\w/])",
    re.IGNORECASE,
)
_TERMINATION_RE = re.compile(
    r"(?<![\w/])(?:but|however|although|though|yet|except|aside from|apart from|which|"
    r"secondary to|due to|presents?|presented|reports?|complains? of|complains?)(?![\w/])"
    r"|[;:\n]|\.(?=\s|$)",
    re.IGNORECASE,
)
_CONTENT_RE = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class Cue:
    """A trigger phrase found in text; ``direction`` is "forward" or "backward"."""

    kind: str
    direction: str
    start: int
    end: int
    phrase: str


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def find_cues(text: str) -> list[Cue]:
    """Return all forward and backward cues in ``text`` sorted by position.

    A forward cue overlapping a backward one is dropped ("not" inside "not ruled out").
    A backward cue overlapping a forward one is dropped as well when the forward cue is longer
    ("negative" inside "negative for").
    """
    backward = [
        Cue(str(m.lastgroup), "backward", m.start(), m.end(), m.group(0))
        for m in _BACKWARD_RE.finditer(text)
    ]
    forward = [
        Cue(str(m.lastgroup), "forward", m.start(), m.end(), m.group(0))
        for m in _FORWARD_RE.finditer(text)
    ]
    kept_backward = [
        b
        for b in backward
        if not any(
            _overlaps(b.start, b.end, f.start, f.end) and (f.end - f.start) > (b.end - b.start)
            for f in forward
        )
    ]
    kept_forward = [
        f
        for f in forward
        if not any(_overlaps(f.start, f.end, b.start, b.end) for b in kept_backward)
    ]
    return sorted(kept_backward + kept_forward, key=lambda c: c.start)


def _has_termination(text: str, start: int, end: int) -> bool:
    return _TERMINATION_RE.search(text, start, end) is not None


def _combine(forward: str | None, backward: str | None) -> str:
    if backward == NEGATED:
        return NEGATED
    if forward is not None:
        return forward
    if backward is not None:
        return backward
    return AFFIRMED


def assertion_at(text: str, start: int, end: int, *, max_gap: int = 80) -> str:
    """Assertion of the target ``text[start:end]`` given the cues around it.

    A forward cue counts when it precedes the target by at most ``max_gap`` characters with no
    termination cue in between; a backward cue counts when it follows within 30 characters.
    """
    forward: str | None = None
    backward: str | None = None
    lo = max(0, start - max_gap)
    for cue in find_cues(text[lo : min(len(text), end + 40)]):
        c0, c1 = cue.start + lo, cue.end + lo
        # A backward cue that precedes the target ("ruled out PE") reads forward.
        if c1 <= start and not _has_termination(text, c1, start):
            forward = cue.kind  # the nearest preceding cue wins
        elif (
            cue.direction == "backward"
            and c0 >= end
            and c0 - end <= 30
            and not _has_termination(text, end, c0)
            and backward is None
        ):
            backward = cue.kind
    return _combine(forward, backward)


def assertion_of(sentence: str, phrase: str) -> str:
    """Assertion of the first occurrence of ``phrase`` in ``sentence`` (case-insensitive).

    Returns ``affirmed`` when the phrase does not occur at all.
    """
    idx = sentence.lower().find(phrase.lower())
    if idx < 0:
        return AFFIRMED
    return assertion_at(sentence, idx, idx + len(phrase))


def clause_assertion(clause: str) -> tuple[str, int]:
    """Classify a whole diagnosis clause and say where its affirmed part ends.

    Returns ``(assertion, cut)``. When a cue opens the clause ("No evidence of DVT") or a
    backward cue closes it ("PE ruled out") the whole clause takes that assertion. When a forward
    cue appears mid-clause ("Mechanical fall without head injury") the clause is affirmed but only
    ``clause[:cut]`` belongs to the diagnosis.
    """
    cues = find_cues(clause)
    forward_kind: str | None = None
    backward_kind: str | None = None
    cut = len(clause)
    for cue in cues:
        leading = not _CONTENT_RE.search(clause, 0, cue.start)
        if cue.direction == "forward" or leading:
            if leading:
                forward_kind = forward_kind or cue.kind
            elif cut == len(clause):
                cut = cue.start
        elif (
            backward_kind is None and cue.start < cut and not _has_termination(clause, 0, cue.start)
        ):
            backward_kind = cue.kind
    kind = _combine(forward_kind, backward_kind)
    if kind != AFFIRMED:
        return kind, len(clause)
    return AFFIRMED, cut
