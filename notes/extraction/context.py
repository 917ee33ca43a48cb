"""Context rules: does a finding belong to the patient now?

Each finding gets one of six kinds:

* ``confirmed`` - the patient has it now;
* ``negated`` - "denies", "no", "negative for", "without", "ruled out", "no evidence of";
* ``uncertain`` - "possible", "likely", "probable", "concern for", "r/o", "suspected";
* ``hypothetical`` - instructions and conditions: "return if", "call if", "watch for",
  "signs of", "in case";
* ``historical`` - "history of", "h/o", "hx of", "s/p", "status post", "prior", or a trailing
  "resolved" / "in remission";
* ``family`` - a relative is named ("mother with", "father had", "FHx:", "family history of").

A forward cue opens a scope that runs to the finding unless a termination cue ("but", ";",
":", a sentence end) comes between; a backward cue ("... ruled out", "... resolved",
"... possible") follows within 40 characters. When several cues reach a finding the stronger
reading wins: negated, then family, hypothetical, historical, uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .negation import _BACKWARD_NEGATED, _FORWARD_NEGATED

CONFIRMED = "confirmed"
NEGATED = "negated"
UNCERTAIN = "uncertain"
HYPOTHETICAL = "hypothetical"
HISTORICAL = "historical"
FAMILY = "family"
KINDS = (CONFIRMED, NEGATED, UNCERTAIN, HYPOTHETICAL, HISTORICAL, FAMILY)
_PRIORITY = (NEGATED, FAMILY, HYPOTHETICAL, HISTORICAL, UNCERTAIN)

_RELATIVES = (
    r"mother|father|mom|dad|brother|sister|siblings?|sons?|daughters?|aunt|uncle|"
    r"grandmother|grandfather|grandparents?|cousin|parents?|maternal|paternal"
)
_FORWARD = {
    NEGATED: _FORWARD_NEGATED + r"|unlikely",
    FAMILY: rf"family\s+history\s+(?:of|significant\s+for|positive\s+for)|family\s+hx\s+of|"
    rf"FHx|FH|(?:patient'?s\s+|pt'?s\s+|his\s+|her\s+)?(?:{_RELATIVES})",
    HYPOTHETICAL: r"return\s+(?:to\s+(?:the\s+)?(?:ed|er|clinic)\s+)?(?:if|for)|"
    r"call\s+(?:back\s+)?if|"
    r"come\s+back\s+if|seek\s+care\s+if|watch\s+for|monitor\s+for|signs\s+of|symptoms\s+of|"
    r"in\s+case(?:\s+of)?|if|unless|precautions",
    HISTORICAL: r"(?:past\s+|prior\s+|remote\s+)?history\s+of|hx\s+of|h/o|s/p|status\s+post|"
    r"prior|previous|remote",
    UNCERTAIN: r"to\s+rule\s+out|rule\s+out|rule-out|r/o|evaluate\s+for|evaluation\s+for|"
    r"eval\s+for|concerning\s+for|concern\s+for|worrisome\s+for|suspicious\s+for|suspected|"
    r"suspect|possible|possibly|probable|probably|likely|questionable|cannot\s+exclude|"
    r"cannot\s+rule\s+out|differential\s+includes|versus|vs\.?",
}
_BACKWARD = {
    NEGATED: _BACKWARD_NEGATED + r"|(?:is\s+|are\s+)?unlikely",
    HISTORICAL: r"(?:which\s+)?(?:has\s+|have\s+|had\s+|is\s+|was\s+)?(?:now\s+)?"
    r"(?:resolved|in\s+remission|healed)",
    UNCERTAIN: r"(?:has\s+|have\s+|was\s+|were\s+|is\s+|are\s+)?not\s+(?:yet\s+)?(?:been\s+)?"
    r"(?:ruled\s+out|excluded)|cannot\s+be\s+(?:ruled\s+out|excluded)|"
    r"(?:is\s+|are\s+)?(?:possible|suspected|questionable|likely|probable)",
}


def _alternatives(table: dict[str, str]) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w/])(?:"
        + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in table.items())
        + r")(?![\w/])",
        re.IGNORECASE,
    )


FORWARD_RE = _alternatives(_FORWARD)
BACKWARD_RE = _alternatives(_BACKWARD)
# "ruled out for MI" reads forward although "ruled out" is a backward cue.
_READS_FORWARD_RE = re.compile(r"\s+(?:for|of)\b", re.IGNORECASE)
TERMINATION_RE = re.compile(
    r"(?<![\w/])(?:but|however|although|though|yet|except|aside\s+from|apart\s+from|"
    r"secondary\s+to|due\s+to|presents?|presented|reports?|complains?\s+of)(?![\w/])"
    r"|[;:\n]|\.(?=\s|$)",
    re.IGNORECASE,
)
_CONTENT_RE = re.compile(r"[A-Za-z0-9]")
# A line that is a family history entry ("FHx: father MI at 52").
FAMILY_LINE_RE = re.compile(
    r"^[ \t]*(?:[-*\u2022]\s*)?(?:family\s+(?:history|hx)|FHx|FH)\b[ \t]*[:\-]",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Cue:
    """A trigger phrase: its kind, direction ("forward"/"backward") and offsets."""

    kind: str
    direction: str
    start: int
    end: int


def find_cues(text: str, start: int = 0, end: int | None = None) -> list[Cue]:
    """Forward and backward cues in ``text[start:end]``; a forward cue inside a longer
    backward one is dropped ("not" in "not ruled out")."""
    end = len(text) if end is None else end
    backward = [
        Cue(str(m.lastgroup), "backward", m.start(), m.end())
        for m in BACKWARD_RE.finditer(text, start, end)
    ]
    forward = [
        Cue(str(m.lastgroup), "forward", m.start(), m.end())
        for m in FORWARD_RE.finditer(text, start, end)
    ]
    same = {(b.start, b.end) for b in backward}
    # One phrase, two readings: "possible"/"likely" read forward when words follow, "ruled
    # out"/"unlikely" backward (``classify_clause`` still reads "ruled out for MI" forward).
    forward = [f for f in forward if (f.start, f.end) not in same or f.kind == UNCERTAIN]
    backward = [
        b
        for b in backward
        if not any((f.start, f.end) == (b.start, b.end) and f.kind == UNCERTAIN for f in forward)
    ]
    forward = [
        f
        for f in forward
        if not any(
            b.start <= f.start and f.end <= b.end and b.end - b.start > f.end - f.start
            for b in backward
        )
    ]
    backward = [
        b
        for b in backward
        if not any(
            f.start <= b.start and b.end <= f.end and f.end - f.start > b.end - b.start
            for f in forward
        )
    ]
    return sorted(forward + backward, key=lambda c: (c.start, -c.end))


def _terminated(text: str, start: int, end: int) -> bool:
    return TERMINATION_RE.search(text, start, end) is not None


def _strongest(kinds: set[str]) -> str:
    for kind in _PRIORITY:
        if kind in kinds:
            return kind
    return CONFIRMED


def _in_family_line(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return FAMILY_LINE_RE.match(text, line_start) is not None


def context_at(text: str, start: int, end: int, *, max_gap: int = 80) -> str:
    """The kind of the finding at ``text[start:end]`` given the cues around it."""
    if _in_family_line(text, start):
        return FAMILY
    kinds: set[str] = set()
    lo = max(0, start - max_gap)
    for cue in find_cues(text, lo, min(len(text), end + 40)):
        if (cue.end <= start and not _terminated(text, cue.end, start)) or (
            cue.direction == "backward"
            and cue.start >= end
            and cue.start - end <= 40
            and not _terminated(text, end, cue.start)
        ):
            kinds.add(cue.kind)
    return _strongest(kinds)


@dataclass(frozen=True)
class Part:
    """A piece of a diagnosis clause and its kind; offsets are relative to the clause."""

    kind: str
    start: int
    end: int


def classify_clause(clause: str) -> list[Part]:
    """Split a diagnosis clause into the parts the context rules give a kind.

    * A leading cue gives the whole clause its kind; the cue itself is not part of the finding
      ("h/o DVT" -> historical "DVT"), except for negation (the clause is kept as written).
    * A trailing cue does the same ("Diabetic ketoacidosis, resolved" -> historical).
    * A cue mid-clause ends the first finding: negation and instructions cut it ("fall without
      head injury"); uncertainty, history and family start a second finding of that kind
      ("Chest pain, concern for acute coronary syndrome").
    """
    cues = find_cues(clause)
    parts: list[Part] = []
    kind = CONFIRMED
    body_start, body_end = 0, len(clause)
    index = 0
    while index < len(cues) and not _CONTENT_RE.search(clause, body_start, cues[index].start):
        cue = cues[index]
        if kind == CONFIRMED or _PRIORITY.index(cue.kind) < _PRIORITY.index(kind):
            kind = cue.kind
        body_start = cue.end
        index += 1
    if kind == NEGATED:
        return [Part(NEGATED, 0, len(clause))]
    for cue in cues[index:]:
        if cue.start < body_start or cue.start >= body_end:
            continue
        after_comma = clause[: cue.start].rstrip().endswith((",", "-"))
        reads_forward = bool(
            (cue.direction == "forward" or _READS_FORWARD_RE.match(clause, cue.end) or after_comma)
            and _CONTENT_RE.search(clause, cue.end)
        )
        if not reads_forward:
            if _terminated(clause, body_start, cue.start):
                continue
            if cue.kind == NEGATED:
                return [Part(NEGATED, 0, len(clause))]
            if kind == CONFIRMED or _PRIORITY.index(cue.kind) < _PRIORITY.index(kind):
                kind = cue.kind
            body_end = cue.start
            break
        body_end = cue.start
        if cue.kind in (UNCERTAIN, HISTORICAL, FAMILY) and cue.end < len(clause):
            tail = classify_clause(clause[cue.end :])
            parts.extend(
                Part(
                    cue.kind if t.kind == CONFIRMED else t.kind, t.start + cue.end, t.end + cue.end
                )
                for t in tail
            )
        break
    return [Part(kind, body_start, body_end), *parts]
