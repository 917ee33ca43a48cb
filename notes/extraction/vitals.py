"""Vital-sign extraction with unit conversion and plausibility checks.

For each vital the first *plausible* labelled measurement in document order is reported;
implausible values (HR 900, temp 60 C) are skipped so a later valid reading can win. Bare
temperatures with an explicit degree sign ("98.6°F") are used only when no labelled one exists.
Temperatures without a unit are read as Celsius when 25-45 and Fahrenheit when 77-113.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .spans import make_span

_FILLER = r"[ \t:=]*(?:(?:of|was|is|at|home|today|measured|recorded|currently|now)\b[ \t:=]*){0,3}"
_FLAGS = re.IGNORECASE

BP_RE = re.compile(
    rf"\b(?:BP|B/P|NIBP|blood\s+pressure)\b{_FILLER}"
    r"(?P<sys>\d{2,3})[ \t]*/[ \t]*(?P<dia>\d{2,3})(?![\d/s])(?:[ \t]*mm[ \t]*Hg)?",
    _FLAGS,
)
HR_RE = re.compile(
    rf"(?:\b(?:HR|heart\s+rate|pulse(?!\s*ox)|pulse\s+rate)\b{_FILLER}|\bP[ \t]+(?=\d))"
    r"(?P<val>\d{2,3})(?!\d|\.\d)(?:[ \t]*(?:bpm|beats?\s+per\s+min(?:ute)?|/min))?",
    _FLAGS,
)
RR_RE = re.compile(
    rf"(?:\b(?:RR|resp(?:iratory)?\.?\s*rate|respirations?|resps?)\b{_FILLER}|\bR[ \t]+(?=\d))"
    r"(?P<val>\d{1,2})(?!\d|\.\d)(?:[ \t]*(?:/min|breaths?\s+per\s+min(?:ute)?))?",
    _FLAGS,
)
_TEMP_VALUE = (
    r"(?P<val>\d{2,3}(?:\.\d{1,2})?)(?![\d/])"
    r"(?:[ \t]*(?:\u00b0|\u00ba|deg(?:rees?)?\.?)?[ \t]*(?P<unit>[CF])\b)?"
)
TEMP_RE = re.compile(
    rf"\b(?:T(?:emp(?:erature)?)?|Tmax|Tm|Tcurrent|Tc)\b\.?{_FILLER}{_TEMP_VALUE}",
    _FLAGS,
)
BARE_TEMP_RE = re.compile(
    r"(?<![\d.])(?P<val>\d{2,3}(?:\.\d{1,2})?)[ \t]*(?:\u00b0|\u00ba)[ \t]*(?P<unit>[CF])\b",
    _FLAGS,
)
SPO2_RE = re.compile(
    r"\b(?:SpO2|SaO2|O2\s*sat(?:uration)?s?|sat(?:uration)?s?|pulse\s*ox(?:imetry)?|POx)\b"
    rf"{_FILLER}(?P<val>\d{{2,3}})[ \t]*%",
    _FLAGS,
)
WEIGHT_RE = re.compile(
    rf"\b(?:Wt|Wgt|weight|body\s+weight)\b\.?{_FILLER}"
    r"(?P<val>\d{1,3}(?:\.\d{1,2})?)[ \t]*(?P<unit>kgs?|kilograms?|lbs?|pounds?)\b",
    _FLAGS,
)
_FEET_INCHES = (
    r"(?P<ft>[3-7])[ \t]*(?:'|\u2019|ft|feet|foot)[ \t]*(?P<inch>\d{1,2}(?:\.\d)?)"
    r"[ \t]*(?:\"|''|\u201d|in(?:ches)?\b)?"
)
HEIGHT_RE = re.compile(
    rf"\b(?:Ht|height)\b\.?{_FILLER}(?:{_FEET_INCHES}|"
    r"(?P<val>\d{1,3}(?:\.\d{1,2})?)[ \t]*(?P<unit>cm|in(?:ches)?|m)\b)",
    _FLAGS,
)
BARE_HEIGHT_RE = re.compile(
    r"(?<![\d.])(?P<ft>[4-7])[ \t]*(?:'|\u2019)[ \t]*(?P<inch>\d{1,2})[ \t]*(?:\"|''|\u201d)"
)

LB_TO_KG = 0.45359237
IN_TO_CM = 2.54


def _f_to_c(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def _temperature(m: re.Match[str]) -> tuple[float, str] | None:
    value = float(m.group("val"))
    unit = (m.group("unit") or "").upper()
    if not unit:
        unit = "C" if 25 <= value <= 45 else "F" if 77 <= value <= 113 else ""
    if not unit:
        return None
    celsius = value if unit == "C" else _f_to_c(value)
    if not 25.0 <= celsius <= 45.0:
        return None
    original = f"{m.group('val')} {unit}"
    return round(celsius, 1), original


def _weight(m: re.Match[str]) -> tuple[float, str] | None:
    value = float(m.group("val"))
    unit = m.group("unit").lower()
    kg = value if unit.startswith("k") else value * LB_TO_KG
    if not 1.0 <= kg <= 350.0:
        return None
    label = "kg" if unit.startswith("k") else "lb"
    return round(kg, 1), f"{m.group('val')} {label}"


def _height(m: re.Match[str]) -> tuple[float, str] | None:
    if m.group("ft"):
        feet, inches = int(m.group("ft")), float(m.group("inch"))
        if inches >= 12:
            return None
        cm = (feet * 12 + inches) * IN_TO_CM
        original = f"{m.group('ft')}'{m.group('inch')}\""
    else:
        value = float(m.group("val"))
        unit = m.group("unit").lower()
        cm = value if unit == "cm" else value * 100 if unit == "m" else value * IN_TO_CM
        original = f"{m.group('val')} {'in' if unit.startswith('in') else unit}"
    if not 40.0 <= cm <= 250.0:
        return None
    return round(cm, 1), original


def _first(
    text: str,
    patterns: tuple[re.Pattern[str], ...],
    convert: Callable[[re.Match[str]], Any | None],
) -> tuple[re.Match[str], Any] | None:
    """First match (pattern priority, then document order) whose conversion is plausible."""
    for pattern in patterns:
        for m in pattern.finditer(text):
            value = convert(m)
            if value is not None:
                return m, value
    return None


def _int_in(lo: int, hi: int) -> Callable[[re.Match[str]], int | None]:
    def convert(m: re.Match[str]) -> int | None:
        value = int(m.group("val"))
        return value if lo <= value <= hi else None

    return convert


def _bp(m: re.Match[str]) -> tuple[int, int] | None:
    sys_, dia = int(m.group("sys")), int(m.group("dia"))
    if 50 <= sys_ <= 260 and 20 <= dia <= 160 and sys_ > dia:
        return sys_, dia
    return None


def _iter_simple() -> Iterator[tuple[str, re.Pattern[str], str, Callable[[re.Match[str]], Any]]]:
    yield "heart_rate", HR_RE, "/min", _int_in(20, 250)
    yield "respiratory_rate", RR_RE, "/min", _int_in(4, 60)
    yield "spo2", SPO2_RE, "%", _int_in(50, 100)


def extract_vitals(text: str) -> dict[str, dict[str, Any]]:
    """Return the first plausible measurement of each vital found in ``text``."""
    out: dict[str, dict[str, Any]] = {}
    found = _first(text, (BP_RE,), _bp)
    if found:
        m, (sys_, dia) = found
        span = make_span(text, m.start(), m.end())
        out["systolic_bp"] = {"value": sys_, "unit": "mmHg", "span": span}
        out["diastolic_bp"] = {"value": dia, "unit": "mmHg", "span": dict(span)}
    for name, pattern, unit, convert in _iter_simple():
        hit = _first(text, (pattern,), convert)
        if hit:
            m, value = hit
            out[name] = {"value": value, "unit": unit, "span": make_span(text, m.start(), m.end())}
    converted: tuple[
        tuple[str, tuple[re.Pattern[str], ...], str, Callable[[re.Match[str]], Any]], ...
    ] = (
        ("temperature_c", (TEMP_RE, BARE_TEMP_RE), "\u00b0C", _temperature),
        ("weight_kg", (WEIGHT_RE,), "kg", _weight),
        ("height_cm", (HEIGHT_RE, BARE_HEIGHT_RE), "cm", _height),
    )
    for name, patterns, unit, convert in converted:
        hit = _first(text, patterns, convert)
        if hit:
            m, (value, original) = hit
            out[name] = {
                "value": value,
                "unit": unit,
                "original": original,
                "span": make_span(text, m.start(), m.end()),
            }
    return out
