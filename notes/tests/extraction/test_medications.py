from __future__ import annotations

from typing import Any

import pytest

from notes.extraction import analyze_note


def _meds(text: str) -> dict[str, dict[str, Any]]:
    meds = analyze_note(text).structured_data["medications"]
    return {m["name"]: m for m in meds}


@pytest.mark.parametrize(
    ("text", "name", "dose", "route", "frequency"),
    [
        ("metoprolol 25 mg PO BID", "metoprolol", "25 mg", "PO", "BID"),
        ("Lisinopril 10mg daily", "lisinopril", "10 mg", None, "daily"),
        ("atorvastatin 40 mg by mouth at night", "atorvastatin", "40 mg", "PO", "nightly"),
        ("insulin glargine 20 units subcut qHS", "insulin glargine", "20 units", "SC", "qHS"),
        ("albuterol 2 puffs inhaled q4h PRN", "albuterol", "2 puffs", "inhaled", "q4h PRN"),
        ("vancomycin 1 g IV every 8 hours", "vancomycin", "1 g", "IV", "q8h"),
        ("methotrexate 15 mg PO weekly", "methotrexate", "15 mg", "PO", "weekly"),
        ("ceftriaxone 1 g IM once", "ceftriaxone", "1 g", "IM", "once"),
        ("enoxaparin 40 mg SQ daily", "enoxaparin", "40 mg", "SC", "daily"),
        ("nitroglycerin 0.4 mg SL q5min PRN", "nitroglycerin", "0.4 mg", "SL", "q5min PRN"),
        ("naproxen 500 mg twice daily", "naproxen", "500 mg", None, "BID"),
        ("acetaminophen 2 tabs PO TID", "acetaminophen", "2 tabs", "PO", "TID"),
        ("lactulose 20 mL PO QID", "lactulose", "20 mL", "PO", "QID"),
        ("hydrocortisone cream topical BID", None, None, None, None),
    ],
)
def test_dose_route_frequency(
    text: str, name: str | None, dose: str | None, route: str | None, frequency: str | None
) -> None:
    meds = _meds(text)
    if name is None:
        assert meds == {}
        return
    med = meds[name]
    assert (med["dose"], med["route"], med["frequency"], med["status"]) == (
        dose,
        route,
        frequency,
        "active",
    )


def test_inline_and_numbered_lists() -> None:
    meds = _meds("Meds: aspirin 81 mg daily, metformin 500 mg BID")
    assert meds["aspirin"]["frequency"] == "daily"
    assert meds["metformin"]["dose"] == "500 mg"
    listed = _meds(
        "MEDICATIONS:\n1. Amlodipine 5 mg PO daily\n- warfarin 5 mg PO daily\n* donepezil 10 mg qHS"
    )
    assert set(listed) == {"amlodipine", "warfarin", "donepezil"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Stopped lisinopril due to cough.", "lisinopril"),
        ("discontinue warfarin", "warfarin"),
        ("Aspirin d/c'd after bleed.", "aspirin"),
        ("Spironolactone was discontinued due to hyperkalemia.", "spironolactone"),
    ],
)
def test_stopped_status(text: str, name: str) -> None:
    assert _meds(text)[name]["status"] == "stopped"


def test_stop_scope_does_not_leak_to_next_drug() -> None:
    meds = _meds(
        "Stop aspirin and start apixaban 5 mg PO BID. "
        "Stopped lisinopril; start losartan 50 mg daily."
    )
    assert meds["aspirin"]["status"] == "stopped"
    assert meds["apixaban"]["status"] == "active"
    assert meds["lisinopril"]["status"] == "stopped"
    assert meds["losartan"]["status"] == "active"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Plan: hold metformin.", "metformin"),
        ("Holding aspirin for now.", "aspirin"),
        ("Lisinopril held for soft blood pressures; resume when SBP > 130.", "lisinopril"),
    ],
)
def test_held_status_is_a_pause_not_a_stop(text: str, name: str) -> None:
    med = _meds(text)[name]
    assert (med["status"], med["change"]) == ("held", "held")


@pytest.mark.parametrize(
    ("text", "name", "change", "dose"),
    [
        ("Start sitagliptin 100 mg PO daily.", "sitagliptin", "started", "100 mg"),
        ("Increase lisinopril to 40 mg PO daily.", "lisinopril", "increased", "40 mg"),
        ("Decrease metoprolol to 12.5 mg BID.", "metoprolol", "decreased", "12.5 mg"),
        ("Continue atorvastatin 40 mg PO QHS.", "atorvastatin", "continued", "40 mg"),
        ("Resume apixaban 5 mg BID.", "apixaban", "resumed", "5 mg"),
        ("Aspirin 81 mg daily.", "aspirin", None, "81 mg"),
    ],
)
def test_medication_changes_are_recorded(
    text: str, name: str, change: str | None, dose: str
) -> None:
    med = _meds(text)[name]
    assert (med["status"], med["change"], med["dose"]) == ("active", change, dose)


@pytest.mark.parametrize(
    ("text", "route", "frequency"),
    [
        ("ondansetron 4 mg IV q6h PRN nausea", "IV", "q6h PRN"),
        ("nitroglycerin 0.4 mg SL x1", "SL", "once"),
        ("oxycodone 5 mg PO QID PRN", "PO", "QID PRN"),
        ("melatonin 3 mg PO QHS", "PO", "qHS"),
        ("metoprolol 25 mg by mouth twice daily", "PO", "BID"),
        ("furosemide 40 mg IV TID", "IV", "TID"),
    ],
)
def test_sig_abbreviations_become_structured(text: str, route: str, frequency: str) -> None:
    (med,) = analyze_note(text).structured_data["medications"]
    assert (med["route"], med["frequency"]) == (route, frequency)


def test_last_mention_decides_status_and_keeps_dose() -> None:
    meds = _meds("Home meds: metformin 500 mg PO BID.\nA/P: DM2 - stop metformin.")
    assert meds["metformin"]["status"] == "stopped"
    assert meds["metformin"]["dose"] == "500 mg"
    resumed = _meds("Apixaban was held for 1 day and then resumed.")
    assert resumed["apixaban"]["status"] == "active"


def test_unknown_drug_with_dose_counts_but_stop_words_do_not() -> None:
    meds = _meds("Given zoledronate 4 mg IV once after 2 units PRBC; total 40 mg.")
    assert set(meds) == {"zoledronate"}


def test_allergens_are_not_medications() -> None:
    meds = _meds(
        "Allergic to penicillin (rash). ALLERGIES: codeine - nausea. Takes aspirin 81 mg daily."
    )
    assert set(meds) == {"aspirin"}


def test_lab_concentrations_are_not_doses() -> None:
    assert _meds("Glucose 180 mg/dL, sodium 135 mEq/L.") == {}


def test_medication_span_points_at_text() -> None:
    text = "Plan: Continue furosemide 40 mg IV BID."
    med = _meds(text)["furosemide"]
    span = med["span"]
    assert text[span["start"] : span["end"]] == span["text"] == "furosemide 40 mg IV BID"


def test_unknown_drug_after_comma_following_known_drug() -> None:
    meds = _meds("magnesium sulfate 4 g IV load, betamethasone 12 mg IM q24h")
    assert set(meds) == {"magnesium sulfate", "betamethasone"}
    assert meds["betamethasone"]["route"] == "IM"
