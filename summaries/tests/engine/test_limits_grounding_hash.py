from __future__ import annotations

import copy
import pickle

import jsonschema
import pytest

from summaries.engine import (
    PROMPT_VERSION,
    ProviderConfig,
    SummaryError,
    SummaryOptions,
    compute_input_hash,
    generate_summary,
)
from summaries.engine.core import JobErrorCode
from summaries.engine.grounding import ground
from summaries.engine.limits import enforce_word_cap, split_sentences
from summaries.engine.prompt import REPLY_SCHEMA, validate_reply
from summaries.engine.record import PatientRecord


def test_cap_keeps_whole_sentences() -> None:
    text = "One two three four. Five six seven eight. Nine ten eleven twelve."
    assert enforce_word_cap(text, 9) == "One two three four. Five six seven eight."
    assert enforce_word_cap(text, 100) == text


def test_cap_cuts_words_when_no_usable_boundary() -> None:
    text = " ".join(f"w{i}" for i in range(50))
    assert enforce_word_cap(text, 10) == " ".join(f"w{i}" for i in range(10)) + "…"


def test_sentences_do_not_split_after_titles() -> None:
    assert split_sentences("Seen by Dr. Lee today. T 38.1 °C.") == [
        "Seen by Dr. Lee today.",
        "T 38.1 °C.",
    ]


def test_grounding_rules(record: PatientRecord) -> None:
    meds, dxs, unverified = ground(
        record,
        ["Amoxicillin 500mg", "metoprolol 25 mg PO BID", "ibuprofen PRN"],
        [
            "pneumonia, community-acquired",  # token overlap
            "Type 2 diabetes mellitus",  # containment
            "high blood pressure",  # glossary synonym
            "right lower lobe consolidation",  # phrase in note text
            "Acute kidney injury",
        ],
    )
    assert meds == ["Amoxicillin 500mg", "ibuprofen PRN"]
    assert dxs == [
        "pneumonia, community-acquired",
        "Type 2 diabetes mellitus",
        "high blood pressure",
        "right lower lobe consolidation",
    ]
    assert unverified == {
        "medications": ["metoprolol 25 mg PO BID"],
        "diagnoses": ["Acute kidney injury"],
    }


def test_validator_agrees_with_jsonschema() -> None:
    samples: list[object] = [
        {
            "narrative": "x",
            "diagnoses": [],
            "medications": [],
            "allergies": [],
            "observations": [],
            "plan": [],
        },
        {
            "narrative": "x",
            "diagnoses": [1],
            "medications": [],
            "allergies": [],
            "observations": [],
            "plan": [],
        },
        {
            "narrative": "x",
            "diagnoses": [],
            "medications": [],
            "allergies": [],
            "observations": [],
            "plan": [],
            "extra": 1,
        },
        {
            "narrative": None,
            "diagnoses": [],
            "medications": [],
            "allergies": [],
            "observations": [],
            "plan": [],
        },
        {"narrative": "x"},
        ["not", "an", "object"],
    ]
    for sample in samples:
        schema_ok = jsonschema.Draft202012Validator(REPLY_SCHEMA).is_valid(sample)
        try:
            validate_reply(sample)
            ours = True
        except ValueError:
            ours = False
        assert ours == schema_ok, sample


def test_input_hash_is_stable_and_sensitive(record: PatientRecord) -> None:
    options = SummaryOptions()
    base = compute_input_hash(record, options)
    assert len(base) == 64 and int(base, 16) >= 0
    assert compute_input_hash(copy.deepcopy(record), SummaryOptions()) == base

    later_same_day = copy.deepcopy(record)
    later_same_day["as_of"] = "2026-11-22T17:45:00+00:00"
    assert compute_input_hash(later_same_day, options) == base

    next_day = copy.deepcopy(record)
    next_day["as_of"] = "2026-11-23T09:30:00+00:00"
    assert compute_input_hash(next_day, options) != base

    edited = copy.deepcopy(record)
    edited["notes"][0]["content"] += " Addendum."
    assert compute_input_hash(edited, options) != base

    reordered_keys = dict(reversed(list(record.items())))
    assert compute_input_hash(reordered_keys, options) == base

    variants = {
        compute_input_hash(record, SummaryOptions(audience="patient")),
        compute_input_hash(record, SummaryOptions(length="brief")),
        compute_input_hash(record, SummaryOptions(deidentify=False)),
    }
    assert base not in variants and len(variants) == 3


def test_prompt_version_value() -> None:
    assert PROMPT_VERSION == "2026-12-1"


def test_summary_error_pickles() -> None:
    error = SummaryError(JobErrorCode.PROVIDER_TIMEOUT, "no reply", True, 3)
    copy_ = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (copy_.code, copy_.message, copy_.retryable, copy_.attempts) == (
        "provider_timeout",
        "no reply",
        True,
        3,
    )


@pytest.mark.parametrize("field", ["audience", "length"])
def test_bad_options_are_configuration_errors(record: PatientRecord, field: str) -> None:
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(**{field: "bogus"}), ProviderConfig("local"))  # type: ignore[arg-type]
    assert info.value.code == "configuration_error"
