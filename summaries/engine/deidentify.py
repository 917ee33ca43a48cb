"""De-identified view of a patient record.

The view is what leaves the process (the OpenAI prompt) and what the local summarizer
reads, so both providers see exactly the same data. With ``deidentify=True`` it carries the
age instead of the date of birth, no name/MRN/email/phone, and every free-text string
(note content, sections, structured data, interaction notes, appointment reasons) is
passed through :class:`Masker`.

Masking is deliberately aggressive: names are matched case-insensitively on word
boundaries, so a first name that is also an ordinary word ("May", "Hope") is masked
everywhere. Staff names (doctors) are kept, but they go through the same masker, so a
doctor who shares the patient's surname shows up as ``[PATIENT]``; leaking the patient's
name is the worse failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .dates import MONTHS, age_on, iso_day, sort_key

PATIENT = "[PATIENT]"
MRN = "[MRN]"
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
DOB = "[DOB]"

_ANY_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PARTICLES = frozenset({"van", "von", "der", "den", "del", "de", "la", "le", "da", "di", "dos"})
_PHONE_SEP = r"[\s.\-()/]{0,3}"
_ORDINAL = r"(?:st|nd|rd|th)?"


def _word(text: str) -> str:
    """Regex for ``text`` as a whole word, tolerant of varying whitespace inside it."""
    body = r"\s+".join(re.escape(part) for part in text.split())
    return rf"(?<!\w){body}(?!\w)"


def _digits_pattern(digits: str) -> str:
    return _PHONE_SEP.join(re.escape(d) for d in digits)


class Masker:
    """Replaces one patient's identifiers inside free text with placeholders."""

    def __init__(self, patient: Mapping[str, Any]) -> None:
        self._rules: list[tuple[re.Pattern[str], str]] = []
        email = _clean(patient.get("email"))
        if email:
            self._add(re.escape(email), EMAIL)
        self._rules.append((_ANY_EMAIL, EMAIL))
        self._add_dob(_clean(patient.get("date_of_birth")))
        self._add_phone(_clean(patient.get("phone")))
        self._add_mrn(_clean(patient.get("mrn")))
        self._add_names(_clean(patient.get("first_name")), _clean(patient.get("last_name")))

    def mask(self, text: str) -> str:
        for pattern, replacement in self._rules:
            text = pattern.sub(replacement, text)
        return text

    def _add(self, pattern: str, replacement: str) -> None:
        self._rules.append((re.compile(pattern, re.IGNORECASE), replacement))

    def _add_dob(self, raw: str) -> None:
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw)
        if not match:
            return
        year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
        if not 1 <= month <= 12:
            return
        sep = r"[/\-.]"
        m = rf"0?{month}"
        d = rf"0?{day}"
        y = rf"(?:{year}|{year[2:]})"
        name = MONTHS[month - 1]
        month_name = rf"(?:{name}|{name[:3]}\.?)"
        patterns = [
            rf"{year}{sep}{m}{sep}{d}",  # 1961-03-04, 1961/3/4
            rf"{m}{sep}{d}{sep}{y}",  # 03/04/1961 (US)
            rf"{d}{sep}{m}{sep}{y}",  # 04/03/1961 (day first)
            rf"{month_name}\s+{d}{_ORDINAL},?\s+{year}",  # March 4, 1961
            rf"{d}{_ORDINAL}\s+(?:of\s+)?{month_name},?\s+{year}",  # 4 March 1961
        ]
        self._add(r"(?<![\w])(?:" + "|".join(patterns) + r")(?![\w])", DOB)

    def _add_phone(self, raw: str) -> None:
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 7:
            return
        national = digits[-10:] if len(digits) > 10 else digits
        prefix = r"(?:\+?\d{1,3}" + _PHONE_SEP + r")?\(?"
        self._add(rf"(?<![\d+]){prefix}{_digits_pattern(national)}(?!\d)", PHONE)
        if len(national) == 10:
            # The local part alone ("555-0199") is still specific enough to identify.
            self._add(rf"(?<![\d+]){_digits_pattern(national[-7:])}(?!\d)", PHONE)

    def _add_mrn(self, raw: str) -> None:
        if not raw:
            return
        chars = [c for c in raw if c.isalnum()]
        if len(chars) < 3:
            return
        # Matches the MRN with or without its separators: "MRN-0048213", "MRN 0048213".
        spaced = r"[\s\-/.#:]?".join(re.escape(c) for c in chars)
        self._add(rf"(?<![A-Za-z0-9]){spaced}(?![A-Za-z0-9])", MRN)
        numeric = re.search(r"\d{5,}", raw)
        if numeric and numeric.group(0) != "".join(chars):
            self._add(rf"(?<!\d){re.escape(numeric.group(0))}(?!\d)", MRN)

    def _add_names(self, first: str, last: str) -> None:
        if first and last:
            self._add(rf"{_word(first)}\s+{_word(last)}", PATIENT)
            self._add(rf"{_word(last)}\s*,\s*{_word(first)}", PATIENT)
        parts: list[str] = []
        for name in (last, first):
            if not name:
                continue
            parts.append(name)
            pieces = [p for p in re.split(r"[\s\-']+", name) if p]
            if len(pieces) > 1:
                parts.extend(p for p in pieces if len(p) >= 3 and p.lower() not in _PARTICLES)
        # Longest first so "Quintanilla-Ruiz" is replaced before "Ruiz".
        for name in sorted(set(parts), key=len, reverse=True):
            if len(name) >= 2:
                self._add(_word(name), PATIENT)


def _clean(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(v, fn) for v in value]
    return value


def _sections(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, section in raw.items():
        text = section.get("text") if isinstance(section, Mapping) else section
        if isinstance(text, str) and text.strip():
            out[str(key)] = text.strip()
    return out


def build_view(record: Mapping[str, Any], *, deidentify: bool) -> dict[str, Any]:
    """The record as the summarizers see it (see the module docstring)."""
    patient = record.get("patient") or {}
    as_of = record.get("as_of")
    person: dict[str, Any] = {
        "age": age_on(patient.get("date_of_birth"), as_of),
        "gender": patient.get("gender") or "unknown",
    }
    if not deidentify:
        name = " ".join(
            p for p in (_clean(patient.get("first_name")), _clean(patient.get("last_name"))) if p
        )
        person = {
            "name": name,
            "first_name": _clean(patient.get("first_name")),
            "mrn": patient.get("mrn"),
            **person,
        }

    notes = []
    for note in sorted(record.get("notes") or [], key=lambda n: sort_key(n.get("taken_at"))):
        sections = _sections(note.get("sections"))
        item: dict[str, Any] = {
            "date": iso_day(note.get("taken_at")),
            "type": note.get("note_type") or "note",
        }
        if sections:
            item["sections"] = sections
        else:
            item["content"] = (note.get("content") or "").strip()
        item["structured_data"] = dict(note.get("structured_data") or {})
        notes.append(item)

    interactions = []
    for it in sorted(
        record.get("interactions") or [], key=lambda i: sort_key(i.get("occurred_at"))
    ):
        outcome = it.get("outcome") or {}
        interactions.append(
            {
                "date": iso_day(it.get("occurred_at")),
                "outcome": outcome.get("label") or outcome.get("code") or "unknown",
                "severity": outcome.get("severity"),
                "notes": (it.get("notes") or "").strip(),
                "doctor": it.get("doctor"),
            }
        )

    appointments = [
        {
            "start_time": a.get("start_time"),
            "duration_minutes": a.get("duration_minutes"),
            "specialty": a.get("specialty"),
            "doctor": a.get("doctor"),
            "reason": a.get("reason"),
        }
        for a in sorted(
            record.get("upcoming_appointments") or [], key=lambda a: sort_key(a.get("start_time"))
        )
    ]

    view: dict[str, Any] = {
        "as_of": iso_day(as_of),
        "patient": person,
        "notes": notes,
        "interactions": interactions,
        "upcoming_appointments": appointments,
    }
    if deidentify:
        masker = Masker(patient)
        for key in ("notes", "interactions", "upcoming_appointments"):
            view[key] = _map_strings(view[key], masker.mask)
    return view
