"""Mechanical properties every summary reply must have, whoever wrote it.

:func:`reply_problems` lists what a reply gets wrong: Markdown or note headings in the prose,
a narrative over the length's hard cap, sig abbreviations ("PO", "BID", "PRN") in a reply for a
patient or a family, an item listed twice, a medication or diagnosis the record does not
contain. The OpenAI provider asks again once when a reply has problems (as it does for
malformed JSON); a reply that still has some is kept, then :func:`plain_text` strips any
formatting, the hard cap cuts the narrative and grounding moves unknown items to
``unverified``. The local summarizer is checked by the tests against the same list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .core import SummaryOptions
from .glossary import normalise
from .grounding import Evidence, diagnosis_grounded, medication_grounded
from .limits import count_words, word_cap

MARKDOWN_RE = re.compile(
    r"^[ \t]*#{1,6}[ \t]|\*\*|__|`|^[ \t]*[-*\u2022][ \t]+|^[ \t]*\d+[.)][ \t]+|\[[^\]]+\]\(",
    re.MULTILINE,
)
NOTE_HEADING_RE = re.compile(
    r"(?:^|[.!?]\s+)(?:S|O|A|P|A/P|Subjective|Objective|Assessment|Plan|HPI|PMH|CC|ROS|"
    r"Assessment and Plan|Assessment & Plan)\s*:",
    re.MULTILINE,
)
SIG_ABBREVIATIONS_RE = re.compile(
    r"(?<![\w(])(?:PO|BID|TID|QID|QHS|qHS|PRN|prn|QD|SL|SC|SQ|IM|q\d{1,2}h|b\.i\.d\.|t\.i\.d\.)"
    r"(?![\w)])"
)
_MARKDOWN_MARKS_RE = re.compile(r"\*\*|__|`")
_MARKDOWN_LINE_RE = re.compile(r"^[ \t]*(?:#{1,6}|[-*\u2022]|\d+[.)])[ \t]+", re.MULTILINE)


def reply_problems(
    data: Mapping[str, Any], options: SummaryOptions, record: Mapping[str, Any] | None = None
) -> list[str]:
    """What ``data`` (a validated reply) gets wrong; empty when it is fine."""
    problems: list[str] = []
    narrative = str(data.get("narrative") or "")
    texts = [narrative, *(str(i) for key in ("plan", "observations") for i in data.get(key, []))]
    if any(MARKDOWN_RE.search(t) for t in texts):
        problems.append("Markdown in the text")
    if NOTE_HEADING_RE.search(narrative):
        problems.append("note headings in the narrative")
    if count_words(narrative) > word_cap(options.length):
        problems.append(f"narrative longer than {word_cap(options.length)} words")
    if options.audience != "clinician":
        lay_texts = texts + [str(m) for m in data.get("medications", [])]
        if any(SIG_ABBREVIATIONS_RE.search(t) for t in lay_texts):
            problems.append("sig abbreviations in a summary for a lay reader")
    for key in ("diagnoses", "medications", "allergies"):
        items = [normalise(str(i)) for i in data.get(key, [])]
        if len(items) != len(set(items)):
            problems.append(f"an item listed twice in {key}")
    if record is not None:
        evidence = Evidence.from_record(record)
        checks: tuple[tuple[str, Callable[[str, Evidence], bool]], ...] = (
            ("medications", medication_grounded),
            ("diagnoses", diagnosis_grounded),
        )
        for key, grounded in checks:
            missing = [str(i) for i in data.get(key, []) if not grounded(str(i), evidence)]
            if missing:
                problems.append(f"{key} not in the record: {', '.join(missing)}")
    return problems


def plain_text(text: str) -> str:
    """``text`` without Markdown marks and list/heading markers."""
    return " ".join(_MARKDOWN_LINE_RE.sub("", _MARKDOWN_MARKS_RE.sub("", text)).split())
