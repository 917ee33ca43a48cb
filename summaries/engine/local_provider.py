"""Deterministic offline summarizer.

Builds the same reply shape as the LLM (narrative + lists) from the de-identified view
using rules only, so it works without network access, costs nothing and gives the same
output for the same input. It reads the structured data first and falls back to note
sections for the assessment and plan.

Assumption: a higher outcome ``severity`` means a worse state, so a falling severity over
the recent interactions is reported as "improving".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import inflect

from notes.extraction import clinical_picture

from .core import SummaryOptions
from .dates import clock, iso_day, long_day
from .glossary import entry_for, normalise, plain_item, plain_phrase, simplify
from .limits import count_words, split_sentences, word_target

LOCAL_MODEL: Final = "local-rules-v1"
NKDA: Final = "No known drug allergies"
TIMELINE_NOTES: Final = 8


# --------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class Reading:
    key: str
    value: float
    unit: str


@dataclass
class Facts:
    age: int | None
    gender: str
    first_name: str | None
    notes: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    diagnoses: list[str] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    no_known_allergies: bool = False
    vitals: list[tuple[str, dict[str, Reading]]] = field(default_factory=list)  # newest first
    past: list[str] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # since the previous note


def _number(raw: object) -> float | None:
    value = raw.get("value") if isinstance(raw, Mapping) else raw
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _unit(raw: object, default: str) -> str:
    unit = raw.get("unit") if isinstance(raw, Mapping) else None
    return unit if isinstance(unit, str) and unit else default


_DEFAULT_UNITS: Final = {
    "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg",
    "heart_rate": "/min",
    "respiratory_rate": "/min",
    "temperature_c": "°C",
    "spo2": "%",
    "weight_kg": "kg",
    "height_cm": "cm",
}


def _readings(vitals: object) -> dict[str, Reading]:
    out: dict[str, Reading] = {}
    if not isinstance(vitals, Mapping):
        return out
    for key, default_unit in _DEFAULT_UNITS.items():
        value = _number(vitals.get(key))
        if value is not None:
            out[key] = Reading(key, value, _unit(vitals.get(key), default_unit))
    return out


def _extract(view: Mapping[str, Any]) -> Facts:
    person = view.get("patient") or {}
    facts = Facts(
        age=person.get("age"),
        gender=str(person.get("gender") or "unknown"),
        first_name=person.get("first_name") or None,
        notes=list(view.get("notes") or []),
        interactions=list(view.get("interactions") or []),
        appointments=list(view.get("upcoming_appointments") or []),
    )
    # The one clinical fold the clinical-data endpoint uses too (notes oldest first).
    # Sorting is stable, so notes of one day keep the view's order.
    ordered = sorted(facts.notes, key=lambda n: str(n.get("date") or ""))
    picture = clinical_picture(_fold_input(ordered))
    facts.past = [d["text"] for d in picture["past_diagnoses"]]
    facts.held = list(picture["held_medications"])
    if len(ordered) > 1:
        facts.changes = _medication_changes(clinical_picture(_fold_input(ordered[:-1])), picture)
    facts.diagnoses = [
        f"possible {d['text']}" if d.get("certainty") == "uncertain" else d["text"]
        for d in picture["diagnoses"]
    ]
    facts.medications = list(picture["medications"])
    facts.allergies = [
        f"{a['substance']} ({a['reaction']})" if a.get("reaction") else a["substance"]
        for a in picture["allergies"]
    ]
    facts.no_known_allergies = picture["no_known_allergies"]
    for note in facts.notes:
        readings = _readings((note.get("structured_data") or {}).get("vitals"))
        if readings:
            facts.vitals.insert(0, (str(note.get("date")), readings))
    return facts


def _fold_input(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": None, "at": str(n.get("date") or ""), "structured_data": n.get("structured_data")}
        for n in notes
    ]


def _medication_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What the newest note changed: started, stopped, held, resumed or re-dosed drugs."""
    old = {m["name"].lower(): m for m in before["medications"]}
    old_held = {m["name"].lower() for m in before["held_medications"]}
    new = {m["name"].lower(): m for m in after["medications"]}
    new_held = {m["name"].lower() for m in after["held_medications"]}
    changes: list[str] = []
    for name, med in new.items():
        if name in old_held:
            changes.append(f"resumed {med['name']}")
        elif name not in old:
            changes.append(f"started {_med_line(med, lay=False)}")
        elif med.get("dose") and old[name].get("dose") and med["dose"] != old[name]["dose"]:
            changes.append(f"{med['name']} {old[name]['dose']} → {med['dose']}")
    for name, med in old.items():
        if name in new_held:
            changes.append(f"held {med['name']}")
        elif name not in new:
            changes.append(f"stopped {med['name']}")
    return changes


# --------------------------------------------------------------------------- formatting


def _fmt_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _abnormal(key: str, value: float) -> str | None:
    """``"high"``/``"low"``/``"fever"`` for values outside simple adult reference ranges."""
    rules: dict[str, tuple[float | None, float | None]] = {
        # key: (low if value < x, high if value >= x)
        "spo2": (94, None),
        "heart_rate": (50, 100.0001),
        "systolic_bp": (90, 140),
        "diastolic_bp": (None, 90),
        "respiratory_rate": (10, 21),
    }
    if key == "temperature_c":
        return "fever" if value >= 38 else ("low" if value < 35 else None)
    low, high = rules.get(key, (None, None))
    if low is not None and value < low:
        return "low"
    if high is not None and value >= high:
        return "high"
    return None


_CLINICAL_LABELS: Final = {
    "heart_rate": "HR",
    "respiratory_rate": "RR",
    "temperature_c": "T",
    "spo2": "SpO2",
    "weight_kg": "weight",
    "height_cm": "height",
}
_LAY_LABELS: Final = {
    "heart_rate": "heart rate",
    "respiratory_rate": "breathing rate",
    "temperature_c": "temperature",
    "spo2": "oxygen level",
    "weight_kg": "weight",
    "height_cm": "height",
}


def _value_text(reading: Reading, lay: bool) -> str:
    unit = reading.unit
    number = _fmt_number(reading.value)
    if unit == "%":
        return f"{number}%"
    if unit == "/min" and lay:
        unit = "breaths per minute" if reading.key == "respiratory_rate" else "beats per minute"
        return f"{number} {unit}"
    if unit.startswith("/"):
        return f"{number}{unit}"
    return f"{number} {unit}"


def _vital_parts(
    readings: dict[str, Reading], *, lay: bool, only_abnormal: bool, verb: str = ""
) -> list[str]:
    """Formatted readings; ``verb`` ("was") turns lay labels into clauses for prose."""
    parts: list[str] = []
    sep = f" {verb} " if verb else " "
    sbp, dbp = readings.get("systolic_bp"), readings.get("diastolic_bp")
    if sbp is not None:
        flag = _abnormal("systolic_bp", sbp.value) or (
            _abnormal("diastolic_bp", dbp.value) if dbp else None
        )
        if not only_abnormal or flag:
            pressure = _fmt_number(sbp.value)
            if dbp is not None:
                pressure += (" over " if lay else "/") + _fmt_number(dbp.value)
            text = f"blood pressure{sep}{pressure}" if lay else f"BP {pressure} {sbp.unit}"
            parts.append(_flagged(text, flag, lay))
    for key in ("heart_rate", "respiratory_rate", "temperature_c", "spo2", "weight_kg"):
        reading = readings.get(key)
        if reading is None:
            continue
        flag = _abnormal(key, reading.value)
        if only_abnormal and not flag:
            continue
        label = (_LAY_LABELS if lay else _CLINICAL_LABELS)[key]
        parts.append(_flagged(f"{label}{sep}{_value_text(reading, lay)}", flag, lay))
    return parts


def _flagged(text: str, flag: str | None, lay: bool) -> str:
    if not flag:
        return text
    if lay:
        words = {"fever": "a fever", "high": "higher than normal", "low": "lower than normal"}
        return f"{text} ({words[flag]})"
    return f"{text} ({flag})"


_LAY_ROUTES: Final = {
    "PO": "by mouth",
    "IV": "through a drip (IV)",
    "IM": "as an injection into a muscle",
    "SC": "as an injection under the skin",
    "SL": "under the tongue",
    "PR": "as a suppository",
    "inhaled": "breathed in (inhaler)",
    "topical": "on the skin",
    "transdermal": "as a skin patch",
    "nasal": "as a nose spray",
}
_LAY_FREQUENCIES: Final = {
    "daily": "once a day",
    "BID": "twice a day",
    "TID": "three times a day",
    "QID": "four times a day",
    "qHS": "at bedtime",
    "nightly": "at night",
    "weekly": "once a week",
    "once": "once",
}


def _lay_frequency(frequency: str) -> str:
    prn = frequency.endswith("PRN")
    base = frequency.removesuffix("PRN").strip()
    every = re.fullmatch(r"q(\d+)(h|min)", base)
    if every:
        unit = "hours" if every.group(2) == "h" else "minutes"
        words = f"every {every.group(1)} {unit}"
    else:
        words = _LAY_FREQUENCIES.get(base, base)
    if prn:
        return f"{words} when needed" if words else "when needed"
    return words


def _med_line(med: Mapping[str, Any], lay: bool) -> str:
    """ "metoprolol 25 mg PO BID" for clinicians; "metoprolol 25 mg by mouth, twice a day"
    for lay readers (no sig abbreviations)."""
    name, dose = med.get("name"), med.get("dose")
    route, frequency = med.get("route"), med.get("frequency")
    if not lay:
        parts = [name, dose, route, frequency]
        return " ".join(str(p).strip() for p in parts if p and str(p).strip())
    head = " ".join(str(p).strip() for p in (name, dose) if p and str(p).strip())
    if route:
        head += " " + _LAY_ROUTES.get(str(route), simplify(str(route)))
    if frequency:
        head += ", " + _lay_frequency(str(frequency))
    return head


def _join(items: list[str], conj: str = "and", sep: str = ", ") -> str:
    if len(items) <= 1:
        return "".join(items)
    last = f"{sep.strip()} {conj}" if sep != ", " else f" {conj}"
    return f"{sep.join(items[:-1])}{last} {items[-1]}"


_INFLECT: Final = inflect.engine()


def _aged(age: int) -> str:
    """ "a 62-year-old", "an 80-year-old", "an 18-year-old" (the article follows the spoken
    number)."""
    words = str(_INFLECT.number_to_words(str(age)))
    article = _INFLECT.a(words).split(" ", 1)[0]
    return f"{article} {age}-year-old"


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = normalise(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _gender_word(gender: str, lay: bool) -> str:
    if lay:
        return {"male": "man", "female": "woman"}.get(gender, "person")
    return {"male": "male", "female": "female"}.get(gender, "patient")


def _appointment_line(appt: Mapping[str, Any]) -> str:
    specialty = str(appt.get("specialty") or "appointment").strip()
    doctor = appt.get("doctor")
    reason = appt.get("reason")
    text = f"{clock(appt.get('start_time'))} — {specialty[:1].upper()}{specialty[1:]}"
    if doctor:
        text += f" ({doctor})"
    if reason:
        text += f": {reason}"
    return text


def _section(note: Mapping[str, Any], name: str) -> str:
    sections = note.get("sections") or {}
    text = sections.get(name) if isinstance(sections, Mapping) else None
    return text.strip() if isinstance(text, str) else ""


_STATUS_LAY: Final = {
    "improving": "getting better",
    "resolving": "getting better",
    "improved": "better",
    "stable": "steady",
    "controlled": "under control",
    "well controlled": "under control",
    "uncontrolled": "not yet under control",
    "worsening": "getting worse",
}


def _lay_condition(text: str) -> str:
    """A condition in plain words, its status in plain words too ("getting better")."""
    head, _, status = text.partition(",")
    status_words = _STATUS_LAY.get(status.strip().lower())
    if status_words and entry_for(head):
        return f"{plain_phrase(head)}, which is {status_words}"
    if text.startswith("possible "):
        return f"a possible {_strip_article(plain_phrase(text.removeprefix('possible ')))}"
    return plain_phrase(text)


def _strip_article(text: str) -> str:
    for article in ("a ", "an ", "the "):
        if text.startswith(article):
            return text[len(article) :]
    return text


def _plan_lines(note: Mapping[str, Any]) -> list[str]:
    text = _section(note, "plan") or _plan_part(_section(note, "assessment_and_plan"))
    if not text:
        return []
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        lines = [part.strip() for part in lines[0].split(";") if part.strip()]
    readable = (_readable(line).rstrip(".") for line in lines)
    return [line for line in readable if line]


def _first_sentences(text: str, max_words: int) -> str:
    out: list[str] = []
    for sentence in split_sentences(" ".join(text.split())):
        if out and count_words(" ".join([*out, sentence])) > max_words:
            break
        out.append(sentence)
    joined = " ".join(out)
    words = joined.split()
    if len(words) > max_words:
        joined = " ".join(words[:max_words]).rstrip(",;:") + "…"
    return joined


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


_MASKED_ADMIN = re.compile(r"\[(?:MRN|DOB|EMAIL|PHONE)\]")
_MASKED_ASIDE = re.compile(r"\s*\([^()]*\[(?:MRN|DOB|EMAIL|PHONE)\][^()]*\)")
_MASKED_NAME = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+)?\[PATIENT\]('s)?", re.IGNORECASE)


_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+[^\n]*$", re.MULTILINE)
_MARKDOWN_MARKS = re.compile(r"\*\*|__|`|^[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]+", re.MULTILINE)
_CAPS_HEADING = re.compile(r"^[ \t]*[A-Z][A-Z &/'-]{2,50}[ \t]*:?[ \t]*$", re.MULTILINE)
_LINE_LABEL = re.compile(r"^[ \t]*[A-Za-z][A-Za-z &/'()-]{0,40}:[ \t]*", re.MULTILINE)


def _plain_prose(text: str) -> str:
    """Note text as prose: no Markdown headings or marks, no title lines, no "Label:"
    prefixes, each line a sentence."""
    text = _MARKDOWN_HEADING.sub("", text)
    text = _CAPS_HEADING.sub("", text)
    text = _MARKDOWN_MARKS.sub("", text)
    text = _LINE_LABEL.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        ends = line[-1].isalnum() or line[-1] in ")%"
        if ends and (not following or following[:1].isupper() or following[:1].isdigit()):
            line += "."  # a line of its own is a sentence; a wrapped one is not
        out.append(line)
    return " ".join(out)


def _plan_part(text: str) -> str:
    """The plan half of a combined "Assessment and Plan" section: the text after each
    problem's " - " (or the whole section when it has no such split)."""
    parts = [
        line.split(" - ", 1)[1]
        for line in text.splitlines()
        if " - " in line and line.split(" - ", 1)[1].strip()
    ]
    return "\n".join(parts)


def _readable(text: str) -> str:
    """Prose without de-identification placeholders or note formatting.

    Asides such as "(MRN [MRN], DOB [DOB])" are removed, "[PATIENT]" becomes "the patient",
    and sentences that are still about contact/admin details are dropped.
    """
    text = _plain_prose(text)
    text = _MASKED_ASIDE.sub("", text)
    text = _MASKED_NAME.sub(lambda m: "the patient's" if m.group(1) else "the patient", text)
    kept = [_sentence(s) for s in split_sentences(text) if not _MASKED_ADMIN.search(s)]
    return " ".join(k for k in kept if k)


def _note_gist(note: Mapping[str, Any], max_words: int) -> str:
    text = (
        _section(note, "assessment")
        or _section(note, "assessment_and_plan")
        or _section(note, "subjective")
    )
    if not text:
        text = str(note.get("content") or "")
    return _first_sentences(_readable(text), max_words)


def _trend(interactions: list[dict[str, Any]]) -> str | None:
    recent = [i for i in interactions[-3:] if isinstance(i.get("severity"), int)]
    if len(recent) < 2:
        return None
    first, last = recent[0]["severity"], recent[-1]["severity"]
    return "improving" if last < first else ("worsening" if last > first else "stable")


# --------------------------------------------------------------------------- narratives


def _clinician(facts: Facts, length: str) -> str:
    s: list[str] = []
    age = _aged(facts.age).split(" ", 1)[1] if facts.age is not None else "Age unknown,"
    s.append(f"{age} {_gender_word(facts.gender, lay=False)}.")
    if not facts.notes:
        s.append("No clinical notes on file.")
    if facts.diagnoses:
        s.append(f"Active problems: {'; '.join(facts.diagnoses)}.")
    elif facts.notes:
        s.append("No diagnoses recorded.")
    if length != "brief" and facts.past:
        s.append(f"History: {'; '.join(facts.past)}.")
    if length != "brief" and facts.vitals:
        day, readings = facts.vitals[0]
        vitals = ", ".join(_vital_parts(readings, lay=False, only_abnormal=False))
        s.append(f"Most recent vitals ({day}): {vitals}.")
    if facts.medications:
        meds = "; ".join(_med_line(m, lay=False) for m in facts.medications)
        if length != "brief" and facts.changes:
            meds += f" (since the previous note: {', '.join(facts.changes)})"
        s.append(f"Current medications: {meds}.")
    elif facts.notes:
        s.append("No active medications recorded.")
    if facts.held:
        s.append(f"On hold: {'; '.join(m['name'] for m in facts.held)}.")
    if facts.allergies:
        s.append(f"Allergies: {'; '.join(facts.allergies)}.")
    elif facts.no_known_allergies:
        s.append("NKDA.")
    elif facts.notes:
        s.append("Allergies not documented.")
    if length == "detailed":
        # Older notes as a timeline; the newest one is covered by "Latest assessment".
        for note in facts.notes[-TIMELINE_NOTES:-1]:
            gist = _note_gist(note, 30)
            s.append(f"{note['date']} {note['type']}: {_sentence(gist) or 'no text.'}")
    if length != "brief" and facts.notes:
        gist = _note_gist(facts.notes[-1], 40)
        if gist:
            s.append(f"Latest assessment ({facts.notes[-1]['date']}): {_sentence(gist)}")
    if length == "detailed":
        for it in facts.interactions[-TIMELINE_NOTES:]:
            line = f"{it['date']} {it['outcome']}"
            notes = _first_sentences(_readable(str(it.get("notes") or "")), 25)
            s.append(f"{line}: {_sentence(notes)}" if notes else f"{line}.")
    if facts.interactions:
        last = facts.interactions[-1]
        trend = _trend(facts.interactions)
        if length != "brief" and trend:
            path = " → ".join(f"{i['outcome']} ({i['date']})" for i in facts.interactions[-3:])
            s.append(f"Outcome trend: {path}, {trend}.")
        else:
            s.append(f"Latest outcome: {last['outcome']} ({last['date']}).")
    elif not facts.notes:
        s.append("No documented interactions.")
    if length != "brief" and facts.notes:
        plan = _plan_lines(facts.notes[-1])
        if plan:
            s.append(f"Pending plan: {'; '.join(plan)}.")
    if length == "detailed" and facts.appointments:
        upcoming = "; ".join(_appointment_line(a) for a in facts.appointments)
        s.append(f"Upcoming: {upcoming}.")
    elif facts.appointments:
        nxt = facts.appointments[0]
        s.append(f"Next appointment: {iso_day(nxt.get('start_time'))} with {nxt.get('specialty')}.")
    return " ".join(s)


def _lower_first(text: str) -> str:
    """Lower-case a leading capital unless it starts an acronym ("CXR")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _lay(facts: Facts, length: str, patient: bool) -> str:
    s: list[str] = []
    their = "your" if patient else "their"
    subject = "You" if patient else "They"
    if patient:
        if facts.age is not None:
            s.append(f"You are {facts.age} years old.")
        else:
            s.append("This is a summary of your recent care.")
    else:
        who = facts.first_name or "Your family member"
        if facts.age is not None:
            s.append(f"{who} is {_aged(facts.age)} {_gender_word(facts.gender, lay=True)}.")
        else:
            s.append("This is a summary of your family member's recent care.")
    if not facts.notes:
        s.append(
            "There are no clinical notes on file for you yet."
            if patient
            else "There are no clinical notes on file yet."
        )
    if facts.diagnoses:
        # Two conditions a sentence: long lists of long words are hard to read.
        conditions = _unique([_lay_condition(d) for d in facts.diagnoses])
        s.append(f"{subject} are being treated for {_join(conditions[:2])}.")
        for i in range(2, len(conditions), 2):
            s.append(f"{subject} also have {_join(conditions[i : i + 2])}.")
    if length != "brief" and facts.vitals:
        day, readings = facts.vitals[0]
        parts = _vital_parts(readings, lay=True, only_abnormal=False, verb="was")
        s.append(f"At the check on {long_day(day)}, {_join([f'{their} {p}' for p in parts])}.")
    if facts.medications:
        if length == "brief":  # names only; doses are in the medications list
            meds = _join([str(m.get("name")).strip() for m in facts.medications])
        else:
            meds = _join([_med_line(m, lay=True) for m in facts.medications], sep="; ")
        s.append(f"{subject} are taking {meds}.")
    if facts.allergies:
        s.append(f"{subject} are allergic to {_join(facts.allergies)}.")
    elif facts.no_known_allergies:
        s.append(f"{subject} have no known allergies to medicines.")
    for med in facts.held:
        s.append(f"{str(med['name']).capitalize()} is on hold for now.")
    # Note text is not quoted to lay readers: it is written for clinicians (headings,
    # abbreviations, long sentences); the facts above come from it in plain words.
    if length != "brief" and facts.notes:
        first, last_day = long_day(facts.notes[0]["date"]), long_day(facts.notes[-1]["date"])
        count = len(facts.notes)
        if count == 1:
            s.append(f"This is based on one clinical note, from {last_day}.")
        else:
            s.append(f"This is based on {count} clinical notes, from {first} to {last_day}.")
    if facts.interactions:
        last = facts.interactions[-1]
        s.append(f"The most recent update ({long_day(last['date'])}) was: {last['outcome']}.")
        trend = _trend(facts.interactions) if length != "brief" else None
        if trend == "improving":
            s.append("Things have been getting better.")
        elif trend == "worsening":
            s.append("Things have been getting harder recently, and the care team is watching.")
        elif trend == "stable":
            s.append("Things have been steady.")
    if length == "detailed" and facts.notes:
        plan = _plan_lines(facts.notes[-1])
        if plan:
            steps = _join([_lower_first(simplify(p)) for p in plan])
            s.append(f"What happens next: {_sentence(steps)}")
    for index, appt in enumerate(facts.appointments[: 3 if length == "detailed" else 1]):
        which = "next" if index == 0 else "following"
        text = f"{their.capitalize()} {which} appointment is on {long_day(appt.get('start_time'))}"
        if appt.get("doctor"):
            text += f" with {appt.get('doctor')} ({appt.get('specialty')})"
        else:
            text += f" with {appt.get('specialty')}"
        if appt.get("reason"):
            text += f" for {_lower_first(simplify(str(appt.get('reason'))))}"
        s.append(text + ".")
    return " ".join(s)


def _fit(narrative: str, length: str) -> str:
    """Drop trailing sentences past the target, keeping the first two and the last one.

    The hard cap is enforced later for every provider; here the aim is a narrative near the
    target length so the cap rarely has to cut.
    """
    target = word_target(length)
    sentences = split_sentences(narrative)
    if count_words(narrative) <= target * 1.2 or len(sentences) <= 3:
        return narrative
    head, tail = sentences[:-1], sentences[-1]
    kept = head[:2]
    budget = target * 1.2 - count_words(" ".join([*kept, tail]))
    for sentence in head[2:]:
        if count_words(sentence) > budget:
            continue
        kept.append(sentence)
        budget -= count_words(sentence)
    return " ".join([*kept, tail])


# --------------------------------------------------------------------------- entry point


def summarize(view: Mapping[str, Any], options: SummaryOptions) -> dict[str, Any]:
    """Reply dict with the same keys as the LLM reply schema."""
    facts = _extract(view)
    lay = options.audience != "clinician"
    if lay:
        narrative = _lay(facts, options.length, patient=options.audience == "patient")
    else:
        narrative = _clinician(facts, options.length)
    narrative = _fit(narrative, options.length)

    observations: list[str] = []
    for index, (day, readings) in enumerate(facts.vitals):
        parts = _vital_parts(readings, lay=lay, only_abnormal=index > 0)
        if parts:
            observations.append(f"{day}: {', '.join(parts)}")

    plan = _plan_lines(facts.notes[-1]) if facts.notes else []
    if lay:
        plan = [simplify(p) for p in plan]
    plan += [_appointment_line(a) for a in facts.appointments]

    if facts.allergies:
        allergies = list(facts.allergies)
    elif facts.no_known_allergies:
        allergies = [NKDA]
    else:
        allergies = []

    return {
        "narrative": narrative,
        "diagnoses": [plain_item(d) for d in facts.diagnoses] if lay else list(facts.diagnoses),
        "medications": [_med_line(m, lay=lay) for m in facts.medications],
        "allergies": allergies,
        "observations": observations,
        "plan": plan,
    }
