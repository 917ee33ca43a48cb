"""The single place where the LLM prompt and the reply schema are defined.

Bump :data:`PROMPT_VERSION` whenever the wording, the rendered record or the schema
changes: it is part of :func:`engine.compute_input_hash`, so stored summaries made with an
older prompt are recognised as stale.
"""

from __future__ import annotations

import json
from typing import Any, Final

from .core import SummaryOptions
from .limits import word_cap, word_target

PROMPT_VERSION: Final = "2026-12-1"

LIST_FIELDS: Final = ("diagnoses", "medications", "allergies", "observations", "plan")

REPLY_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "narrative": {"type": "string"},
        **{name: {"type": "array", "items": {"type": "string"}} for name in LIST_FIELDS},
    },
    "required": ["narrative", *LIST_FIELDS],
    "additionalProperties": False,
}

#: ``response_format`` for Structured Outputs (strict JSON schema).
JSON_SCHEMA_FORMAT: Final[dict[str, Any]] = {
    "type": "json_schema",
    "json_schema": {"name": "patient_summary", "strict": True, "schema": REPLY_SCHEMA},
}
#: Fallback for servers that do not support ``json_schema``; the system message spells the
#: keys out, so the reply shape is still requested (and validated afterwards).
JSON_OBJECT_FORMAT: Final[dict[str, Any]] = {"type": "json_object"}

_AUDIENCE_STYLE: Final[dict[str, str]] = {
    "clinician": (
        "The reader is a clinician. Use concise, precise clinical language; standard medical "
        "terms and abbreviations are fine. Make it problem-oriented: the active problems, each "
        "with its latest data; the current medications and what changed since the previous "
        "note (started, stopped, held, re-dosed); the plan items still pending. Lead with "
        "anything abnormal."
    ),
    "family": (
        "The reader is a family member of the patient, not a medical professional. Use plain, "
        "kind, jargon-free language; explain every medical term in everyday words (for "
        'example "high blood pressure" rather than "hypertension"). Refer to the patient in '
        "the third person. Be honest and calm; do not alarm and do not reassure beyond the "
        "record." + " " + "{lay}"
    ),
    "patient": (
        "The reader is the patient. Write directly to them in the second person "
        '("you", "your"), in plain, kind, jargon-free language; explain every medical term '
        'in everyday words (for example "high blood pressure" rather than "hypertension"). '
        "Be honest and calm; do not alarm and do not reassure beyond the record. {lay}"
    ),
}
_LAY_RULES: Final = (
    'Name each condition in plain words with the medical name after it ("high blood pressure '
    '(hypertension)"). Write medicine instructions out ("by mouth, three times a day when '
    'needed"), never sig abbreviations such as PO, BID, TID, QHS or PRN. Use correct grammar '
    '("an 80-year-old"). Short sentences and everyday words: a reading level of grade 8 or '
    "lower."
)

_LENGTH_GUIDANCE: Final[dict[str, str]] = {
    "brief": "Only the essentials: who, active problems, current medications, what is next.",
    "standard": "Add the most recent vital signs and how recent outcomes have been trending.",
    "detailed": ("Add a short dated timeline of the notes and interactions, and the plan in full."),
}


def system_message(options: SummaryOptions) -> str:
    target = word_target(options.length)
    cap = word_cap(options.length)
    return "\n".join(
        [
            "You write summaries of a patient's clinic record.",
            _AUDIENCE_STYLE[options.audience].replace("{lay}", _LAY_RULES),
            "",
            "Rules:",
            "- Plain text only: no Markdown (no #, *, bullets or numbered lines) and none of the "
            "notes' headings (S:, A/P:, Assessment:) in the narrative. Mention each condition "
            "and each medication once. Dates and times as the record gives them (the clinic's "
            "time zone).",
            "- Use only facts stated in the record. Do not invent or infer diagnoses, "
            "medications, doses, results, dates or plans. If something is not documented, "
            "leave it out or say it is not documented.",
            *(
                [
                    "- The record is de-identified: identifiers are replaced by placeholders "
                    "such as [PATIENT]; never guess them and never repeat placeholders. "
                    "Doctor names may be used."
                ]
                if options.deidentify
                else []
            ),
            f"- narrative: about {target} words, never more than {cap}. "
            f"{_LENGTH_GUIDANCE[options.length]}",
            "- diagnoses: conditions documented in the record, each named as written in the "
            "record (the lists are checked against the record word for word).",
            "- medications: current (active) medications only, each as "
            '"name dose route frequency" as written in the record; leave out stopped ones.',
            '- allergies: each "substance (reaction)", or "No known drug allergies" if the '
            "record says so; empty if allergies are not documented.",
            "- observations: notable findings and vital signs with their dates; say which "
            "values are abnormal.",
            "- plan: next steps from the most recent plan and the upcoming appointments, "
            "with dates.",
            "",
            "Reply with one JSON object only (no markdown, no text around it) with exactly "
            'these keys: "narrative" (string), "diagnoses", "medications", "allergies", '
            '"observations", "plan" (each an array of strings).',
        ]
    )


def user_message(view: dict[str, Any]) -> str:
    record = json.dumps(view, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"Patient record as of {view.get('as_of')} (JSON):\n{record}"


def build_messages(view: dict[str, Any], options: SummaryOptions) -> list[dict[str, str]]:
    """System + user messages for chat.completions, from the (de-identified) view."""
    return [
        {"role": "system", "content": system_message(options)},
        {"role": "user", "content": user_message(view)},
    ]


def validate_reply(data: object) -> dict[str, Any]:
    """Check ``data`` against :data:`REPLY_SCHEMA`; raise ``ValueError`` if it does not fit.

    Hand-written on purpose: the schema is tiny and the engine must not depend on
    ``jsonschema`` being installed wherever it is deployed. A test checks that this function
    and ``jsonschema`` agree.
    """
    if not isinstance(data, dict):
        raise ValueError("reply is not a JSON object")
    expected = {"narrative", *LIST_FIELDS}
    missing = expected - data.keys()
    extra = data.keys() - expected
    if missing:
        raise ValueError(f"reply is missing keys: {', '.join(sorted(missing))}")
    if extra:
        raise ValueError(f"reply has unexpected keys: {', '.join(sorted(map(str, extra)))}")
    if not isinstance(data["narrative"], str):
        raise ValueError("narrative is not a string")
    for name in LIST_FIELDS:
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} is not an array of strings")
    return data
