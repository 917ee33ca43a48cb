"""Medication mentions: name, dose, route, frequency and active/stopped status.

A mention is either a lexicon drug name (see ``lexicon.py``) or an unknown word directly
followed by a dose ("<word> <number> <unit>", e.g. "Albumin 25 g"), so drugs missing from the
lexicon still count when they carry a dose.

Status: a stop cue (stop/stopped/discontinue/d/c/switch ... to) preceding the name in the same
comma-delimited segment, or following it ("was discontinued", "now completed"), marks the
mention ``stopped``; a hold cue (hold/held/holding) marks it ``held`` (paused, not ended); a
later start cue (start/resume/restart/continue/increase) in between makes it ``active`` again.
``change`` records what the note does to the drug: started, resumed, continued, increased,
decreased, stopped or held (``None`` when the note only lists it).

Deduplication: mentions are merged by name and the **last mention in document order decides
the status**, because notes read chronologically ("home metformin ... hold metformin" is
stopped, "apixaban held ... then resumed" is active). Dose, route and frequency come from the
most recent mention that states them; the span points at the status-deciding mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .lexicon import DRUG_NAMES
from .negation import NEGATED, assertion_at
from .spans import make_span


def _name_pattern(name: str) -> str:
    """Lexicon entry -> regex: spaces match any whitespace, hyphens match "-" or "/"."""
    return r"\s+".join(r"[-/]".join(re.escape(p) for p in w.split("-")) for w in name.split())


_NAMES_SORTED = sorted(DRUG_NAMES, key=len, reverse=True)
LEXICON_RE = re.compile(
    r"(?<![\w-])(?:" + "|".join(_name_pattern(n) for n in _NAMES_SORTED) + r")(?![\w-])",
    re.IGNORECASE,
)
_UNIT = (
    r"mg|mcg|\u00b5g|ug|g|grams?|units?|u|iu|ml|puffs?|tabs?|tablets?|caps?|capsules?|meq|drops?"
)
DOSE_RE = re.compile(
    rf"(?<![\w.])(?P<num>\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?)\s*(?P<unit>{_UNIT})\b"
    r"(?P<per>/kg(?:/(?:min|hr?|day))?|/hr?|/day)?(?!/)",
    re.IGNORECASE,
)
UNKNOWN_DRUG_RE = re.compile(
    rf"(?<![\w/-])(?P<name>[A-Za-z][A-Za-z-]{{3,}})[ \t]+(?P<dose>\d+(?:\.\d+)?)[ \t]*"
    rf"(?:{_UNIT})\b(?!/)",
    re.IGNORECASE,
)
# Words that precede a dose but are not drugs ("after 2 units", "then 75 mg", "patch 21 mg").
_NOT_DRUG = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "also",
        "approximately",
        "around",
        "before",
        "being",
        "below",
        "bolus",
        "capsule",
        "cell",
        "chewable",
        "daily",
        "dose",
        "doses",
        "drip",
        "each",
        "every",
        "extra",
        "fluid",
        "fluids",
        "from",
        "gave",
        "given",
        "give",
        "giving",
        "had",
        "have",
        "home",
        "infusion",
        "inhaler",
        "into",
        "last",
        "less",
        "load",
        "loading",
        "loaded",
        "maximum",
        "more",
        "most",
        "nightly",
        "once",
        "only",
        "over",
        "patch",
        "plus",
        "prbc",
        "received",
        "receive",
        "removed",
        "reduced",
        "required",
        "requiring",
        "start",
        "started",
        "starting",
        "tablet",
        "tablets",
        "taking",
        "takes",
        "than",
        "that",
        "then",
        "there",
        "this",
        "total",
        "twice",
        "until",
        "used",
        "using",
        "when",
        "which",
        "while",
        "with",
        "within",
        "additional",
        "increase",
        "increased",
        "decrease",
        "decreased",
        "dosed",
        "dosing",
        "weekly",
        "morning",
        "evening",
        "with",
        "blood",
        "units",
        "sliding",
        "scale",
    ]
)
ROUTE_RE = re.compile(
    r"(?<![\w/])(?P<route>PO|p\.o\.|per\s+os|by\s+mouth|orally|oral|IV|IVPB|IV\s+push|"
    r"intravenous(?:ly)?|IM|intramuscular(?:ly)?|SC|SQ|subcut(?:aneous(?:ly)?)?|s\.c\.|"
    r"inhaled|inhalation|inh|nebulized|neb|topical(?:ly)?|PR|per\s+rectum|rectal(?:ly)?|SL|"
    r"sublingual(?:ly)?|transdermal|intranasal|nasal)(?![\w/])",
    re.IGNORECASE,
)
_ROUTE_CANON = (
    (re.compile(r"^(?:po|p\.o\.|per\s+os|by\s+mouth|orally|oral)$", re.I), "PO"),
    (re.compile(r"^(?:iv|ivpb|iv\s+push|intravenous(?:ly)?)$", re.I), "IV"),
    (re.compile(r"^(?:im|intramuscular(?:ly)?)$", re.I), "IM"),
    (re.compile(r"^(?:sc|sq|subcut(?:aneous(?:ly)?)?|s\.c\.)$", re.I), "SC"),
    (re.compile(r"^(?:inhaled|inhalation|inh|nebulized|neb)$", re.I), "inhaled"),
    (re.compile(r"^(?:topical(?:ly)?)$", re.I), "topical"),
    (re.compile(r"^(?:pr|per\s+rectum|rectal(?:ly)?)$", re.I), "PR"),
    (re.compile(r"^(?:sl|sublingual(?:ly)?)$", re.I), "SL"),
    (re.compile(r"^(?:transdermal)$", re.I), "transdermal"),
    (re.compile(r"^(?:intranasal|nasal)$", re.I), "nasal"),
)
_FREQ_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<![\w/]){pat}(?![\w/])", re.IGNORECASE), canon)
    for pat, canon in (
        (r"q\.?\s?(?P<n>\d{1,2})\s?(?:h|hr|hrs|hours?)\.?", "q{n}h"),
        (r"every\s+(?P<n>\d{1,2})\s*(?:h|hr|hrs|hours?)", "q{n}h"),
        (r"q\.?\s?(?P<n>\d{1,2})\s?min", "q{n}min"),
        (r"b\.?i\.?d\.?|twice\s+(?:daily|a\s+day|per\s+day)", "BID"),
        (r"t\.?i\.?d\.?|three\s+times\s+(?:daily|a\s+day|per\s+day)", "TID"),
        (r"q\.?i\.?d\.?|four\s+times\s+(?:daily|a\s+day|per\s+day)", "QID"),
        (r"q\.?\s?hs|at\s+bedtime|before\s+bed", "qHS"),
        (r"nightly|at\s+night|every\s+night|q\.?\s?pm", "nightly"),
        (r"weekly|once\s+a\s+week|every\s+week|q\.?\s?week|q\.?\s?wk", "weekly"),
        (
            r"(?:once\s+)?daily|q\.?\s?d\.?|q\.?\s?day|every\s+day|once\s+a\s+day|per\s+day|"
            r"every\s+morning|q\.?\s?am",
            "daily",
        ),
        (r"once|x\s?1|one\s+time|single\s+dose|stat", "once"),
    )
)
PRN_RE = re.compile(r"(?<![\w/])(?:prn|p\.r\.n\.|as\s+needed)(?![\w/])", re.IGNORECASE)

_HOLD = r"held|hold|holding"
_STOP = (
    r"stop|stopped|stopping|discontinue|discontinued|discontinuing|d/c|d/c'd|dc'd|dc|"
    r"completed|finished|cease|ceased|switch|switched|switching|change|changed|transition|transitioned"
)
_START = (
    r"start|started|starting|begin|began|initiate|initiated|resume|resumed|restart|restarted|"
    r"continue|continued|cont|add|added|increase|increased|decrease|decreased|reduce|reduced|to"
)
CUE_RE = re.compile(
    rf"(?<![\w/'])(?:(?P<hold>{_HOLD})|(?P<stop>{_STOP})|(?P<start>{_START}))(?![\w/])",
    re.IGNORECASE,
)
POST_STOP_RE = re.compile(
    r"^[\s,]*(?:(?:was|were|is|are|has\s+been|have\s+been|been|being|now|then)\s+)*"
    r"(?:(?P<hold>held)|discontinued|stopped|d/c'd|dc'd|completed|finished)\b",
    re.IGNORECASE,
)
POST_ANY_RE = re.compile(
    r"(?<![\w/])(?:(?P<hold>held)|(?P<stop>discontinued|stopped|d/c'd|completed|finished|"
    r"(?:switched|transitioned|changed|converted)\s+to)|(?P<start>resumed|restarted))(?![\w/])",
    re.IGNORECASE,
)
_CHANGE_WORDS = (
    (
        re.compile(r"^(?:start|started|starting|begin|began|initiate|initiated|add|added)$", re.I),
        "started",
    ),
    (re.compile(r"^(?:resume|resumed|restart|restarted)$", re.I), "resumed"),
    (re.compile(r"^(?:continue|continued|cont)$", re.I), "continued"),
    (re.compile(r"^(?:increase|increased)$", re.I), "increased"),
    (re.compile(r"^(?:decrease|decreased|reduce|reduced)$", re.I), "decreased"),
)


def _change(word: str, status: str) -> str | None:
    if status in ("stopped", "held"):
        return status
    for pattern, change in _CHANGE_WORDS:
        if pattern.match(word):
            return change
    return None


def _cue_status(m: re.Match[str]) -> str:
    if m.group("hold"):
        return "held"
    return "stopped" if m.group("stop") else "active"


# Clause limits for attributes and status.
_CLAUSE_END_RE = re.compile(r"\n|;|\.(?=\s+[A-Z(\d])|\.\s*$")
_SEGMENT_END_RE = re.compile(r",|\n|;|\.(?=\s+[A-Z(\d])|\.\s*$|\band\b(?=\s+(?:start|add))")


_SPAN_STRIP = " \t\r\n.,;:"


@dataclass(frozen=True)
class _Mention:
    name: str
    start: int
    end: int


def _canonical_route(raw: str) -> str:
    compact = " ".join(raw.split())
    for pattern, canon in _ROUTE_CANON:
        if pattern.match(compact):
            return canon
    return compact


def _format_dose(m: re.Match[str]) -> str:
    num = re.sub(r"\s+", "", m.group("num"))
    unit = m.group("unit").lower()
    unit = {
        "ml": "mL",
        "u": "units",
        "unit": "units",
        "iu": "units",
        "ug": "mcg",
        "\u00b5g": "mcg",
        "gram": "g",
        "grams": "g",
        "puff": "puffs",
        "tab": "tabs",
        "tablet": "tabs",
        "tablets": "tabs",
        "cap": "caps",
        "capsule": "caps",
        "capsules": "caps",
        "meq": "mEq",
        "drop": "drops",
    }.get(unit, unit)
    return f"{num} {unit}{m.group('per') or ''}"


def _frequency(window: str) -> tuple[str | None, int]:
    """Canonical frequency in ``window`` and the offset where the frequency text ends."""
    best: tuple[int, int, str] | None = None
    for pattern, canon in _FREQ_PATTERNS:
        m = pattern.search(window)
        if m and (best is None or m.start() < best[0]):
            value = canon.format(n=m.group("n")) if "{n}" in canon else canon
            best = (m.start(), m.end(), value)
    prn = PRN_RE.search(window)
    if best is None:
        return ("PRN", prn.end()) if prn else (None, 0)
    if prn:
        return f"{best[2]} PRN", max(best[1], prn.end())
    return best[2], best[1]


def _in_regions(pos: int, regions: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in regions)


def _find_mentions(text: str, excluded: list[tuple[int, int]]) -> list[_Mention]:
    mentions: list[_Mention] = []
    for m in LEXICON_RE.finditer(text):
        name = re.sub(r"\s+", " ", m.group(0).lower()).replace("/", "-")
        mentions.append(_Mention(name, m.start(), m.end()))
    taken = [(x.start, x.end) for x in mentions]
    for m in UNKNOWN_DRUG_RE.finditer(text):
        word = m.group("name")
        trailing = any(
            b <= m.start() <= b + 16 and not re.search(r"[,;.]", text[b : m.start()])
            for _, b in taken
        )
        if word.lower() in _NOT_DRUG or trailing or any(a <= m.start() < b for a, b in taken):
            continue  # a stop word, or a word trailing a known drug ("nicotine patch 21 mg")
        if LEXICON_RE.fullmatch(word):
            continue
        mentions.append(_Mention(word.lower(), m.start("name"), m.end("name")))
    mentions.sort(key=lambda x: x.start)
    return [x for x in mentions if not _in_regions(x.start, excluded)]


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _CLAUSE_END_RE.finditer(text, max(0, start - 300), start):
        left = m.end()
    right_m = _CLAUSE_END_RE.search(text, end)
    return left, right_m.start() if right_m else len(text)


def _status(
    text: str, mention: _Mention, clause: tuple[int, int], window_end: int
) -> tuple[str, str | None]:
    """``(status, change)`` of one mention from the cues before and after it."""
    c0, _c1 = clause
    seg_start = c0
    for m in _SEGMENT_END_RE.finditer(text, c0, mention.start):
        seg_start = m.end()
    status, change = "active", None
    for cue in CUE_RE.finditer(text, seg_start, mention.start):
        status = _cue_status(cue)
        change = _change(cue.group(0), status)
    after = text[mention.end : window_end]
    post = POST_STOP_RE.match(after)
    if post:
        status = "held" if post.group("hold") else "stopped"
        change = status
    for cue in POST_ANY_RE.finditer(after):
        status = _cue_status(cue)
        change = status if status != "active" else "resumed"
    return status, change


def extract_medications(
    text: str, *, excluded: list[tuple[int, int]] | None = None
) -> list[dict[str, Any]]:
    """Extract medications; ``excluded`` regions (allergy statements) are ignored."""
    mentions = _find_mentions(text, excluded or [])
    merged: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for i, mention in enumerate(mentions):
        c0, c1 = _clause_bounds(text, mention.start, mention.end)
        next_start = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
        window_end = min(c1, next_start) if next_start > mention.end else c1
        if assertion_at(text, mention.start, mention.end, max_gap=25) == NEGATED and not re.search(
            rf"\b(?:{_STOP})\b", text[max(c0, mention.start - 25) : mention.start], re.IGNORECASE
        ):
            continue  # "no aspirin", "not on warfarin"
        # Attributes are read up to the first start/stop cue ("... and transitioned to oral X").
        # ("Increase lisinopril to 40 mg": the "to" right after the name introduces the dose.)
        attr_stop = [
            m.start()
            for m in CUE_RE.finditer(text, mention.end, window_end)
            if not (m.group(0).lower() == "to" and m.start() - mention.end <= 2)
        ][:1]
        window = text[mention.end : min([*attr_stop, window_end])]
        dose_m = DOSE_RE.search(window)
        route_m = ROUTE_RE.search(window)
        frequency, freq_end = _frequency(window)
        # The span covers the name plus the attributes read from the text after it.
        attr_end = max(
            [freq_end] + [m.end() for m in (dose_m, route_m) if m is not None],
        )
        if route_m is None:
            route_m = ROUTE_RE.search(text, max(c0, mention.start - 12), mention.start)
        status, change = _status(text, mention, (c0, c1), window_end)
        item = {
            "name": mention.name,
            "dose": _format_dose(dose_m) if dose_m else None,
            "route": _canonical_route(route_m.group("route")) if route_m else None,
            "frequency": frequency,
            "status": status,
            "change": change,
            "span": make_span(text, mention.start, mention.end + attr_end, strip=_SPAN_STRIP),
        }
        if mention.name not in merged:
            order.append(mention.name)
            merged[mention.name] = item
            continue
        previous = merged[mention.name]
        for key in ("dose", "route", "frequency", "change"):
            if item[key] is None:
                item[key] = previous[key]
        merged[mention.name] = item
    return [merged[name] for name in order]
