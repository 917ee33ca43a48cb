from __future__ import annotations

import pytest

from notes.extraction import analyze_note


def _allergies(text: str) -> tuple[list[tuple[str, str | None]], bool]:
    data = analyze_note(text).structured_data
    return [(a["substance"], a["reaction"]) for a in data["allergies"]], data["no_known_allergies"]


def test_list_with_reactions() -> None:
    items, nka = _allergies("Allergies: penicillin (rash), sulfa - hives")
    assert items == [("penicillin", "rash"), ("sulfa", "hives")]
    assert nka is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She is allergic to peanuts.", [("peanuts", None)]),
        ("ALLERGIES: Codeine causes nausea.", [("codeine", "nausea")]),
        ("Allergies: Amoxicillin -> hives; latex", [("amoxicillin", "hives"), ("latex", None)]),
        (
            "ALLERGIES:\n- penicillin (rash)\n- iodinated contrast\nMeds: none",
            [
                ("penicillin", "rash"),
                ("iodinated contrast", None),
            ],
        ),
    ],
)
def test_allergy_forms(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert _allergies(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Allergies: NKDA",
        "No known drug allergies.",
        "NKA",
        "Allergies: none known",
        "no known allergies",
    ],
)
def test_no_known_allergies(text: str) -> None:
    assert _allergies(text) == ([], True)


def test_allergy_not_mentioned() -> None:
    assert _allergies("HR 80") == ([], False)


def test_allergy_span() -> None:
    text = "Allergies: penicillin (rash)"
    item = analyze_note(text).structured_data["allergies"][0]
    assert text[item["span"]["start"] : item["span"]["end"]] == item["span"]["text"]
    assert "penicillin" in item["span"]["text"]
