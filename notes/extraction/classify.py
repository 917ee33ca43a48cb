"""Rule-based note-type classifier.

Each rule is a regex with a weight for one note type; a hit inside the title region (the first
two non-empty lines, at most 200 characters) counts double because titles such as
"Discharge Summary" are the strongest signal. A SOAP layout adds a small default weight to
"progress". Confidence is the normalised margin ``(best - runner_up) / best`` (0..1); when no
rule fires the type is "other" with confidence 0.0.
"""

from __future__ import annotations

import re

NOTE_TYPES = ("admission", "progress", "consult", "procedure", "discharge", "other")
TITLE_REGION = 200
SOAP_PROGRESS_WEIGHT = 2.0

_I, _M = re.IGNORECASE, re.IGNORECASE | re.MULTILINE
# (note type, pattern, weight, title_only)
_RULES: tuple[tuple[str, re.Pattern[str], float, bool], ...] = tuple(
    (kind, re.compile(pattern, flags), weight, title_only)
    for kind, pattern, flags, weight, title_only in (
        ("discharge", r"\bdischarge\s+summary\b", _I, 5.0, False),
        ("discharge", r"\b(?:discharge|final)\s+diagnos[ie]s\b", _I, 3.0, False),
        ("discharge", r"\b(?:brief\s+)?hospital\s+course\b", _I, 2.0, False),
        (
            "discharge",
            r"\bdischarge\s+(?:medications|meds|vitals|exam|instructions|date|"
            r"condition|disposition)\b|\b(?:medications|exam|vitals)\s+at\s+discharge\b",
            _I,
            1.5,
            False,
        ),
        ("discharge", r"\bdischarged\s*:", _I, 1.0, False),
        (
            "admission",
            r"\bhistory\s+(?:and|&)\s+physical\b|\bH\s*&\s*P\b|\bH\s+and\s+P\b",
            _I,
            5.0,
            False,
        ),
        (
            "admission",
            r"\b(?:admission|admit|admitting)\s+(?:note|h&p|history)\b|"
            r"^\s*admit\s+note\b",
            _M,
            4.0,
            False,
        ),
        ("admission", r"\bchief\s+complaint\b|^\s*CC\s*:", _M, 1.5, False),
        ("admission", r"\bhistory\s+of\s+present\s+illness\b|\bHPI\b", _I, 1.0, False),
        ("admission", r"\bpast\s+medical\s+history\b|\bPMH\b", _I, 1.0, False),
        (
            "admission",
            r"\bsocial\s+history\b|^\s*social\s*:|\breview\s+of\s+systems\b",
            _M,
            0.5,
            False,
        ),
        ("consult", r"\bconsult(?:ation)?\s+note\b", _I, 4.0, False),
        ("consult", r"\bconsultation\b", _I, 3.0, True),
        ("consult", r"\bconsult\b", _I, 2.0, True),
        ("consult", r"\breason\s+for\s+(?:consultation|consult|referral)\b", _I, 4.0, False),
        (
            "consult",
            r"\bthank\s+you\s+for\s+(?:asking|referring|the\s+referral|this\s+"
            r"(?:consult|referral)|allowing)\b|\bat\s+your\s+request\b",
            _I,
            3.0,
            False,
        ),
        ("consult", r"\brequesting\s+(?:physician|provider|service|team)\b", _I, 2.0, False),
        ("consult", r"^\s*dear\s+dr\b", _M, 1.5, False),
        ("consult", r"^\s*recommendations?\s*:", _M, 1.0, False),
        (
            "procedure",
            r"\bprocedure\s+note\b|\bop(?:erative)?\s+note\b|\bbrief\s+op\b",
            _I,
            5.0,
            False,
        ),
        ("procedure", r"^\s*procedures?(?:\s+performed)?\s*:", _M, 3.0, False),
        (
            "procedure",
            r"\b(?:pre|post)-?(?:operative|procedure|procedural|op)\s+diagnosis\b",
            _I,
            2.0,
            False,
        ),
        ("procedure", r"\binformed\s+consent\b|^\s*consent\s*:", _M, 1.5, False),
        ("procedure", r"\btime[- ]?out\s+(?:was\s+)?performed\b", _I, 1.5, False),
        ("procedure", r"^\s*complications\s*:", _M, 1.5, False),
        ("procedure", r"\bEBL\b|\bestimated\s+blood\s+loss\b", _I, 1.5, False),
        (
            "procedure",
            r"\bsterile\s+(?:fashion|technique)\b|\bprepped\s+and\s+draped\b",
            _I,
            1.5,
            False,
        ),
        ("procedure", r"^\s*(?:sedation|anesthesia|indications?)\s*:", _M, 1.0, False),
        ("progress", r"\bprogress\s+note\b|\bdaily\s+note\b|\bSOAP\s+note\b", _I, 5.0, False),
        ("progress", r"\binterval\s+(?:history|events)\b", _I, 3.0, False),
        (
            "progress",
            r"\bhospital\s+day\s*#?\s*\d+|\bHD\s*#?\s*\d+\b|\bPOD\s*#?\s*\d+\b|"
            r"\bday\s+\d+\s+of\b",
            _I,
            2.5,
            False,
        ),
        ("progress", r"\bno\s+acute\s+events\b|\bovernight\b", _I, 1.5, False),
        ("progress", r"\bseen\s+and\s+examined\b", _I, 1.0, False),
        (
            "progress",
            r"\bfollow[- ]?up\s+(?:visit|of|for|on)\b|\bseen\s+today\s+for\b|"
            r"\b(?:pt|patient)\s+seen\s+(?:in\s+clinic\s+)?for\b|\bclinic\s+(?:note|visit)\b",
            _I,
            1.0,
            False,
        ),
        (
            "other",
            r"\btelephone\s+(?:encounter|call|note|follow[- ]?up)\b|\bphone\s+call\b|"
            r"\bspoke\s+(?:with|to)\s+(?:the\s+)?(?:patient|pt)\b",
            _I,
            4.0,
            False,
        ),
        (
            "other",
            r"\bnursing\s+note\b|\brefill\s+request\b|\bphysical\s+therapy\b|"
            r"\bpatient\s+(?:portal\s+)?message\b|\btreatment\s+note\b",
            _I,
            4.0,
            False,
        ),
    )
)


_LINE_RE = re.compile(r"[^\n]*\S[^\n]*")


def _title_end(text: str) -> int:
    """End offset of the title region: the first two non-empty lines, capped."""
    end = 0
    for i, m in enumerate(_LINE_RE.finditer(text, 0, TITLE_REGION)):
        end = m.end()
        if i == 1:
            break
    return end


def score_note(text: str, *, is_soap: bool = False) -> dict[str, float]:
    """Raw rule scores per note type."""
    scores = dict.fromkeys(NOTE_TYPES, 0.0)
    title_end = _title_end(text)
    for kind, pattern, weight, title_only in _RULES:
        for m in pattern.finditer(text, 0, title_end if title_only else len(text)):
            scores[kind] += weight * (2.0 if m.start() < title_end else 1.0)
            break  # one hit per rule: repetition is not extra evidence
    if is_soap:
        scores["progress"] += SOAP_PROGRESS_WEIGHT
    return scores


def classify_note(text: str, *, is_soap: bool = False) -> tuple[str, float]:
    """Return ``(note_type, confidence)`` for ``text``."""
    scores = score_note(text, is_soap=is_soap)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, runner_up) = ranked[0], ranked[1]
    if top <= 0.0:
        return "other", 0.0
    return best, round((top - runner_up) / top, 3)
