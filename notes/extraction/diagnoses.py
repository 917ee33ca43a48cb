"""Diagnoses from the assessment (SOAP), Impression / Diagnosis / Problem lists, "#" problem
lines, or - in a note with none of these - from the prose itself.

Each candidate line is split into items (numbering and bullets stripped), then sentences, then
";"-clauses. Text after " - " or ":" inside an item is treated as plan detail. The context rules
(``context.py``) then give each clause its kind: confirmed and uncertain findings are the
current ``items`` (with ``certainty``), historical ones go to ``past``, a relative's to
``family``, and negated or hypothetical ones are set aside in ``excluded``. Plan-like clauses
(starting with an order verb or carrying a dose) are dropped because combined "Assessment and
Plan" blocks mix both.

A note without any of those blocks is read as prose: every known condition name or
abbreviation (``conditions.py``) is a finding, and its kind comes from the cues around it.
History and family history are read from the whole note either way ("h/o MI" in the HPI,
"FHx: father MI at 52").

Every item keeps ``text`` as written, ``canonical`` (abbreviations expanded, "HTN" ->
"hypertension") and its ``span``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .conditions import CONDITION_RE, canonical_name
from .context import (
    CONFIRMED,
    FAMILY,
    HISTORICAL,
    UNCERTAIN,
    classify_clause,
    context_at,
)
from .medications import DOSE_RE, LEXICON_RE
from .sections import COMBINED_KEY, Heading, find_generic_headings, find_soap_headings
from .spans import make_span, phrase_match

_NORM_LABEL_RE = re.compile(r"[^a-z&/ ]+")

# Headings whose body lists diagnoses. "fallback" ones are used only when no primary one exists
# (an admitting or pre-operative diagnosis is superseded by the final one).
_PRIMARY_LABEL_RE = re.compile(
    r"^(?:assessment|assessment (?:and|&|/) ?plan|assessment/plan|a/p|a & p|impression|"
    r"impression (?:and|&|/) ?plan|impression/plan|clinical impression|diagnos[ie]s|"
    r"(?:discharge|final|principal|primary|secondary|other|additional|active|working|"
    r"post-?(?:operative|procedure|procedural)|postop) diagnos[ie]s|secondary|problem list|"
    r"problems|active problems)$"
)
_FALLBACK_LABEL_RE = re.compile(
    r"^(?:admitting|admission|pre-?(?:operative|procedure|procedural)|preop|referral|"
    r"provisional) diagnos[ie]s$"
)
# Labels that end a diagnosis block (other than other diagnosis headings).
_TERMINATOR_WORDS = re.compile(
    r"\b(?:plan|recommendations?|recs|disposition|follow[- ]?up|course|medications?|meds|allerg\w*|"
    r"vitals?|vs|exam\w*|labs?|laboratory|imaging|studies|history|hpi|cc|complaint|ros|pmh|"
    r"psh|social|family|procedure|indication|consent|description|complications|findings|"
    r"sedation|anesthesia|ebl|blood loss|specimens?|antibiotics|surgeon|operator|date|"
    r"admitted|discharged|instructions|diet|activity|condition|signature|sincerely|regards|"
    r"cc'?d|requesting|reason|subjective|objective|summary|code status|ecg|ekg|cxr|signed|"
    r"attending|resident|time|pt|patient)\b"
)
_ITEM_PREFIX_RE = re.compile(r"^\s*(?:[-*\u2022#>]+|\(?\d{1,2}[.)](?!\d)|\(?[a-z][.)](?=\s))\s*")
# "#Cellulitis - improving" problem lines in a note without a diagnosis heading.
_PROBLEM_LINE_RE = re.compile(r"^[ \t]*#[ \t]?(?=[A-Za-z])[^\n]*", re.MULTILINE)
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[A-Za-z0-9)\]%][.!?])\s+")
_DETAIL_SPLIT_RE = re.compile(r"\s+[-\u2013\u2014]+>?\s+|\s*:\s+|\s+--\s*")
_PLAN_START_RE = re.compile(
    r"^(?:continue|cont|start|started|stop|hold|discontinue|d/c|recommend|recommended|repeat|"
    r"obtain|check|follow|f/u|fu|increase|decrease|titrate|load|add|switch|change|consider|"
    r"send|await|monitor|give|resume|restart|wean|schedule|refer|referral|discuss|discussed|"
    r"counsel|counseled|npo|iv fluids|mri|ct|cta|echo|tte|tee|ekg|ecg|labs|cbc|bmp|cmp|"
    r"trend|plan|will|rtc|return|call|encourage|advance|ambulate|pt/ot|physical therapy|"
    r"telemetry|tele|goal|dvt prophylaxis|diet|pain control|appreciate|see above|as above|"
    r"recheck|re-check|limit|avoid|keep|advised|instructed|contact precautions|"
    r"strict i/o|ordered|order)\b",
    re.IGNORECASE,
)
_SKIP_RE = re.compile(
    r"^(?:same|same as above|none|n/a|see above|as above|stable|unchanged|improving|"
    r"pending|deferred|no change|nil|(?:pod|hd|hospital day|day)\s*#?\s*\d+)$",
    re.IGNORECASE,
)
_LETTERS_RE = re.compile(r"[A-Za-z]{2,}")
# A numbered item that starts mid-line after a sentence end: "1. Pneumonia. 2. HTN."
_INLINE_ITEM_RE = re.compile(r"(?<=[.;])\s+(?=\(?\d{1,2}[.)]\s)")
_PROBLEM_LABEL_RE = re.compile(r"^\s*(?P<label>[A-Za-z][^:\n]{1,60}?)\s*:\s+\S")
_TRAIL = " \t\r\n.,;:-"


@dataclass
class DiagnosisResult:
    """Current diagnoses (confirmed or uncertain), past ones, a relative's, and the clauses set
    aside as negated or hypothetical."""

    items: list[dict[str, Any]] = field(default_factory=list)
    past: list[dict[str, Any]] = field(default_factory=list)
    family: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, kind: str, span: dict[str, Any]) -> None:
        """File a finding under its kind (once per kind and canonical name)."""
        text = span["text"]
        canonical = canonical_name(text)
        bucket = {CONFIRMED: "items", UNCERTAIN: "items", HISTORICAL: "past", FAMILY: "family"}
        where = bucket.get(kind, "excluded")
        if (where, canonical) in self.seen:
            return
        self.seen.add((where, canonical))
        if where == "excluded":
            self.excluded.append({"text": text, "assertion": kind, "span": span})
        elif where == "items":
            certainty = "uncertain" if kind == UNCERTAIN else "confirmed"
            self.items.append(
                {"text": text, "canonical": canonical, "certainty": certainty, "span": span}
            )
        else:
            getattr(self, where).append({"text": text, "canonical": canonical, "span": span})


_QUALIFIER_SPLIT = re.compile(r",| - | \(|;")


_STATUS_WORDS_RE = re.compile(
    r"(?:\s+(?:improving|improved|resolving|stable|unchanged|controlled|uncontrolled|"
    r"worsening|worse|better|well|poorly|not|at|goal|treated|ongoing|persistent))+$"
)


def condition_key(text: str) -> str:
    """The condition a diagnosis names, without its status qualifier, for grouping:
    "Hypertension", "HTN, improving", "hypertension (controlled)" and "Hypertension stable"
    are one ("hypertension")."""
    core = _QUALIFIER_SPLIT.split(text, maxsplit=1)[0]
    core = " ".join(re.sub(r"[^\w\s]", " ", canonical_name(core)).split())
    return _STATUS_WORDS_RE.sub("", core) or core


def _label_norm(label: str) -> str:
    return " ".join(_NORM_LABEL_RE.sub(" ", label.lower().replace("-", "")).split())


def _is_diagnosis_label(norm: str) -> bool:
    return bool(_PRIMARY_LABEL_RE.match(norm) or _FALLBACK_LABEL_RE.match(norm))


def _block_end(text: str, body_start: int, headings: list[Heading]) -> int:
    for h in headings:
        if h.start < body_start:
            continue
        norm = _label_norm(h.label)
        if _is_diagnosis_label(norm) or _TERMINATOR_WORDS.search(norm) or h.label.isupper():
            return h.start
    return len(text)


def find_diagnosis_blocks(
    text: str, sections: dict[str, dict[str, Any]] | None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Regions to read diagnoses from: ``(primary, fallback)``.

    Fallback regions (admitting / pre-operative diagnosis) are read only when the primary ones
    yield nothing, e.g. "Postoperative diagnosis: Same".
    """
    for key in ("assessment", COMBINED_KEY):
        if sections and key in sections:
            a = sections[key]
            return [(int(a["start"]), int(a["end"]))], []
    headings = sorted(find_generic_headings(text) + find_soap_headings(text), key=lambda h: h.start)
    primary: list[tuple[int, int]] = []
    fallback: list[tuple[int, int]] = []
    for h in headings:
        norm = _label_norm(h.label)
        if (h.keys and {"assessment", COMBINED_KEY} & set(h.keys)) or _PRIMARY_LABEL_RE.match(norm):
            target = primary
        elif _FALLBACK_LABEL_RE.match(norm):
            target = fallback
        else:
            continue
        end = _block_end(text, h.body_start, [x for x in headings if x.start > h.start])
        if end > h.body_start and all(h.body_start >= b or h.body_start < a for a, b in primary):
            target.append((h.body_start, end))
    return primary, fallback


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one item/line into candidate clauses (absolute offsets)."""
    line = text[start:end]
    m = _ITEM_PREFIX_RE.match(line)
    is_item = bool(m and m.group(0).strip())
    offset = m.end() if m else 0
    sentences: list[tuple[int, int]] = []
    cursor = offset
    for s in _SENTENCE_SPLIT_RE.finditer(line, offset):
        sentences.append((cursor, s.start()))
        cursor = s.end()
    sentences.append((cursor, len(line)))
    if is_item:
        sentences = sentences[:1]  # the rest of a numbered item is detail or plan
    out: list[tuple[int, int]] = []
    for s0, s1 in sentences:
        detail = _DETAIL_SPLIT_RE.search(line, s0, s1)
        if detail:
            s1 = detail.start()
        c0 = s0
        for semi in re.finditer(";", line[s0:s1]):
            out.append((start + c0, start + s0 + semi.start()))
            c0 = s0 + semi.end()
        out.append((start + c0, start + s1))
    return out


def _looks_like_plan(clause: str) -> bool:
    if _PLAN_START_RE.match(clause):
        return True
    if DOSE_RE.search(clause):
        return True
    first = LEXICON_RE.match(clause)
    return first is not None


def extract_diagnoses(text: str, sections: dict[str, dict[str, Any]] | None) -> DiagnosisResult:
    """Read diagnoses from the diagnosis blocks of ``text``, or from its prose."""
    primary, fallback = find_diagnosis_blocks(text, sections)
    if not primary and not fallback:
        problems = [(m.start(), m.end()) for m in _PROBLEM_LINE_RE.finditer(text)]
        if len(problems) >= 2:
            primary = problems
    if primary or fallback:
        result = _read_blocks(text, primary)
        if not result.items and fallback:
            result = _read_blocks(text, fallback)
        blocks = primary + fallback
        _read_prose(text, result, blocks, kinds=(HISTORICAL, FAMILY))
    else:
        result = DiagnosisResult()
        _read_prose(text, result, [])
    return result


def _read_prose(
    text: str,
    result: DiagnosisResult,
    skip: list[tuple[int, int]],
    *,
    kinds: tuple[str, ...] | None = None,
) -> None:
    """Known condition names anywhere outside ``skip``, filed by the cues around them."""
    for m in CONDITION_RE.finditer(text):
        if any(a <= m.start() < b for a, b in skip):
            continue
        kind = context_at(text, m.start(), m.end())
        if kinds is not None and kind not in kinds:
            continue
        name = canonical_name(m.group(0))
        if any(phrase_match(name, item["canonical"]) for item in result.items):
            continue  # "community-acquired pneumonia ... Pneumonia resolving" is one finding
        result.add(kind, make_span(text, m.start(), m.end()))


def _read_blocks(text: str, blocks: list[tuple[int, int]]) -> DiagnosisResult:
    result = DiagnosisResult()
    for b0, b1 in blocks:
        pos = b0
        for line in text[b0:b1].splitlines(keepends=True):
            end = pos + len(line.rstrip("\r\n"))
            segments = _line_items(text, pos, end)
            pos += len(line)
            for l0, l1 in segments:
                _read_item(text, l0, l1, result)
    return result


def _line_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """One line, cut before every inline numbered item after the first."""
    cuts = [m.end() for m in _INLINE_ITEM_RE.finditer(text, start, end)]
    bounds = [start, *cuts, end]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _unusable(clause: str) -> bool:
    return (
        len(clause) < 2
        or not _LETTERS_RE.search(clause)
        or bool(_SKIP_RE.match(clause))
        or _looks_like_plan(clause)
    )


def _read_item(text: str, l0: int, l1: int, result: DiagnosisResult) -> None:
    if not text[l0:l1].strip():
        return
    label = _PROBLEM_LABEL_RE.match(text, l0, l1)
    prefix = _ITEM_PREFIX_RE.match(text, l0, l1)
    if label and not (prefix and prefix.group(0).strip()):
        # Problem-oriented style "CHF: continue diuresis" -> the label is the problem.
        clauses = [label.span("label")]
    else:
        clauses = _clauses(text, l0, l1)
    for c0, c1 in clauses:
        span = make_span(text, c0, c1, strip=_TRAIL)
        if not span["text"] or _unusable(span["text"]):
            continue
        for c0, c1 in _condition_list(text, span):
            _read_clause(text, make_span(text, c0, c1, strip=_TRAIL), result)


def _condition_list(text: str, span: dict[str, Any]) -> list[tuple[int, int]]:
    """A comma list of conditions ("ascites, alcoholic cirrhosis") is one item per condition;
    any other comma stays inside the diagnosis ("Cellulitis, left leg", "HTN, uncontrolled")."""
    start, end = span["start"], span["end"]
    cuts = [start + m.start() for m in re.finditer(",", text[start:end])]
    pieces = list(zip([start, *(c + 1 for c in cuts)], [*cuts, end], strict=True))
    if len(pieces) > 1 and all(CONDITION_RE.search(text, a, b) for a, b in pieces):
        return pieces
    return [(start, end)]


def _read_clause(text: str, span: dict[str, Any], result: DiagnosisResult) -> None:
    if not span["text"] or _unusable(span["text"]):
        return
    for part in classify_clause(span["text"]):
        piece = make_span(text, span["start"] + part.start, span["start"] + part.end, strip=_TRAIL)
        if piece["text"] and not _unusable(piece["text"]):
            result.add(part.kind, piece)
