from __future__ import annotations

from typing import Any

import pytest

from notes.extraction.vitals import extract_vitals


def _value(text: str, name: str) -> Any:
    return extract_vitals(text)[name]["value"]


@pytest.mark.parametrize(
    ("text", "sys_", "dia"),
    [
        ("BP 128/82", 128, 82),
        ("blood pressure 128/82 mmHg", 128, 82),
        ("BP: 140 / 90", 140, 90),
        ("B/P 100/60", 100, 60),
        ("BP at home 138/86.", 138, 86),
    ],
)
def test_blood_pressure(text: str, sys_: int, dia: int) -> None:
    vitals = extract_vitals(text)
    assert vitals["systolic_bp"]["value"] == sys_
    assert vitals["diastolic_bp"]["value"] == dia
    assert vitals["systolic_bp"]["unit"] == "mmHg"


@pytest.mark.parametrize(
    ("text", "value"),
    [("HR 72", 72), ("pulse 88 bpm", 88), ("heart rate of 110", 110), ("heart rate was 132", 132)],
)
def test_heart_rate(text: str, value: int) -> None:
    vitals = extract_vitals(text)
    assert vitals["heart_rate"]["value"] == value
    assert vitals["heart_rate"]["unit"] == "/min"


@pytest.mark.parametrize(("text", "value"), [("RR 16", 16), ("resp rate 18", 18)])
def test_respiratory_rate(text: str, value: int) -> None:
    assert _value(text, "respiratory_rate") == value


@pytest.mark.parametrize(
    ("text", "celsius", "original"),
    [
        ("T 38.1 C", 38.1, "38.1 C"),
        ("Temp 101.2 F", 38.4, "101.2 F"),
        ("temperature 37.0°C", 37.0, "37.0 C"),
        ("afebrile, 98.6°F today", 37.0, "98.6 F"),
        ("Tmax 37.4", 37.4, "37.4 C"),
        ("temp 99.0", 37.2, "99.0 F"),
    ],
)
def test_temperature_and_conversion(text: str, celsius: float, original: str) -> None:
    temp = extract_vitals(text)["temperature_c"]
    assert temp["value"] == celsius
    assert temp["unit"] == "°C"
    assert temp["original"] == original


@pytest.mark.parametrize(
    ("text", "value"), [("SpO2 97%", 97), ("O2 sat 94% on RA", 94), ("sats 92%", 92)]
)
def test_spo2(text: str, value: int) -> None:
    assert _value(text, "spo2") == value


def test_percent_values_without_spo2_label_are_ignored() -> None:
    assert "spo2" not in extract_vitals("A1c 8.9%. EF 50%. FiO2 40%.")


@pytest.mark.parametrize(
    ("text", "kg", "original"),
    [
        ("Wt 80 kg", 80.0, "80 kg"),
        ("weight 180 lb", 81.6, "180 lb"),
        ("weight 142 lbs", 64.4, "142 lb"),
    ],
)
def test_weight_and_pound_conversion(text: str, kg: float, original: str) -> None:
    weight = extract_vitals(text)["weight_kg"]
    assert (weight["value"], weight["unit"], weight["original"]) == (kg, "kg", original)


@pytest.mark.parametrize(
    ("text", "cm"),
    [
        ("Ht 175 cm", 175.0),
        ("height 70 in", 177.8),
        ("height 5'10\"", 177.8),
        ("Ht 5 ft 10 in", 177.8),
        ("stands 5'6\" tall", 167.6),
    ],
)
def test_height_and_conversion(text: str, cm: float) -> None:
    height = extract_vitals(text)["height_cm"]
    assert height["value"] == cm
    assert height["unit"] == "cm"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("HR 900", "heart_rate"),
        ("T 60 C", "temperature_c"),
        ("Temp 130 F", "temperature_c"),
        ("BP 80/120", "systolic_bp"),
        ("BP 400/90", "systolic_bp"),
        ("RR 95", "respiratory_rate"),
        ("SpO2 120%", "spo2"),
        ("Wt 900 kg", "weight_kg"),
        ("Ht 400 cm", "height_cm"),
    ],
)
def test_impossible_values_rejected(text: str, name: str) -> None:
    assert name not in extract_vitals(text)


def test_later_plausible_value_wins_after_rejection() -> None:
    assert _value("HR 900 (artifact), recount HR 88", "heart_rate") == 88


def test_vital_spans_contain_value() -> None:
    text = "Vitals: Temp 101.2 F, BP 142/88, pulse 104 bpm, Wt 180 lb, height 5'10\"."
    vitals = extract_vitals(text)
    for name, raw in [
        ("temperature_c", "101.2"),
        ("systolic_bp", "142"),
        ("diastolic_bp", "88"),
        ("heart_rate", "104"),
        ("weight_kg", "180"),
        ("height_cm", "5'10"),
    ]:
        span = vitals[name]["span"]
        assert text[span["start"] : span["end"]] == span["text"]
        assert raw in span["text"]


def test_value_followed_by_sentence_period() -> None:
    vitals = extract_vitals("BP 130/80, HR 84. RR 16.")
    assert vitals["heart_rate"]["value"] == 84
    assert vitals["respiratory_rate"]["value"] == 16
