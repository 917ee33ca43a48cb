"""The mechanical reply checks, and the re-ask they trigger."""

from __future__ import annotations

import pytest

from summaries.engine import ProviderConfig, SummaryOptions, generate_summary
from summaries.engine.record import PatientRecord
from summaries.engine.style import plain_text, reply_problems
from summaries.tests.engine.sample import reply
from summaries.tests.fake_openai import FakeOpenAI, ok

FAMILY = SummaryOptions(audience="family")


@pytest.mark.parametrize(
    ("changes", "options", "problem"),
    [
        ({"narrative": "# Discharge Summary\nDoing well."}, FAMILY, "Markdown"),
        ({"narrative": "She is **better**."}, FAMILY, "Markdown"),
        ({"plan": ["- see the doctor"]}, FAMILY, "Markdown"),
        ({"narrative": "Doing well. A/P: pneumonia."}, SummaryOptions(), "note headings"),
        ({"narrative": "word " * 201}, SummaryOptions(), "longer than 200"),
        ({"narrative": "She takes amoxicillin PO TID."}, FAMILY, "sig abbreviations"),
        ({"diagnoses": ["HTN", "htn"]}, SummaryOptions(), "listed twice"),
    ],
)
def test_reply_problems_names_what_is_wrong(
    changes: dict[str, object], options: SummaryOptions, problem: str
) -> None:
    problems = reply_problems(reply(**changes), options)
    assert any(problem in p for p in problems), problems


def test_a_clean_reply_has_no_problems(record: PatientRecord) -> None:
    assert reply_problems(reply(), SummaryOptions(), record) == []
    assert reply_problems(reply(medications=["warfarin 5 mg"]), SummaryOptions(), record) == [
        "medications not in the record: warfarin 5 mg"
    ]


def test_sig_abbreviations_are_fine_for_clinicians() -> None:
    assert reply_problems(reply(narrative="Amoxicillin 1 g PO TID."), SummaryOptions()) == []


def test_a_reply_with_problems_is_asked_for_again_and_the_better_one_kept(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue(
        ok(reply(narrative="## Summary\nShe takes amoxicillin PO TID.")),
        ok(reply(narrative="She takes amoxicillin by mouth, three times a day.")),
    )
    config = ProviderConfig(provider="openai", api_key="sk-test", base_url=fake_openai.base_url)
    result = generate_summary(record, FAMILY, config, sleep=lambda _: None)
    assert len(fake_openai.requests) == 2
    assert result.narrative == "She takes amoxicillin by mouth, three times a day."


def test_plain_text_strips_formatting() -> None:
    assert plain_text("# Title\n**Bold** and `code`\n- item") == "Title Bold and code item"
