"""The pipeline: de-identify → provider → clean up → ground → cap → result."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from .core import (
    AUDIENCES,
    LENGTHS,
    PROVIDERS,
    JobErrorCode,
    ProviderConfig,
    SummaryError,
    SummaryOptions,
    SummaryResult,
)
from .dates import age_on, iso_day
from .deidentify import build_view
from .grounding import ground
from .limits import enforce_word_cap, word_cap
from .local_provider import LOCAL_MODEL
from .local_provider import summarize as local_summarize
from .openai_provider import OpenAIProvider
from .prompt import LIST_FIELDS, PROMPT_VERSION, build_messages
from .style import plain_text, reply_problems


def compute_input_hash(record: Mapping[str, Any], options: SummaryOptions) -> str:
    """Fingerprint of everything that determines a summary, to detect stale ones.

    ``as_of`` only counts by its date: the age (the one thing derived from it) changes at
    day granularity, so regenerating within the same day would be wasted work.
    """
    canonical = dict(record)
    if "as_of" in canonical:
        canonical["as_of"] = iso_day(canonical["as_of"])
    payload = {
        "record": canonical,
        "audience": options.audience,
        "length": options.length,
        "deidentify": options.deidentify,
        "prompt_version": PROMPT_VERSION,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _check(record: Mapping[str, Any], options: SummaryOptions, config: ProviderConfig) -> None:
    problems: list[str] = []
    if options.audience not in AUDIENCES:
        problems.append(f"unknown audience {options.audience!r}")
    if options.length not in LENGTHS:
        problems.append(f"unknown length {options.length!r}")
    if config.provider not in PROVIDERS:
        problems.append(f"unknown provider {config.provider!r}")
    if config.provider == "openai":
        if not config.api_key:
            problems.append("api_key is required for the openai provider")
        if not config.model:
            problems.append("model is required for the openai provider")
        if config.timeout_seconds <= 0:
            problems.append("timeout_seconds must be positive")
        if config.max_retries < 0:
            problems.append("max_retries must not be negative")
        if config.backoff_base_seconds < 0 or config.backoff_max_seconds < 0:
            problems.append("backoff times must not be negative")
    if not isinstance(record, Mapping) or not isinstance(record.get("patient"), Mapping):
        problems.append("record has no patient")
    if problems:
        raise SummaryError(JobErrorCode.CONFIGURATION_ERROR, "; ".join(problems), False, 0)


def _clean_list(value: object) -> list[str]:
    """Strip, drop empties and case-insensitive duplicates, keep order."""
    out: list[str] = []
    seen: set[str] = set()
    for item in value if isinstance(value, list) else []:
        text = " ".join(str(item).split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out


def _heading(record: Mapping[str, Any]) -> dict[str, Any]:
    patient = record["patient"]
    name = " ".join(
        str(patient.get(k)).strip()
        for k in ("first_name", "last_name")
        if patient.get(k) and str(patient.get(k)).strip()
    )
    return {
        "name": name,
        "age": age_on(patient.get("date_of_birth"), record.get("as_of")),
        "date_of_birth": patient.get("date_of_birth"),
        "gender": patient.get("gender") or "unknown",
        "mrn": patient.get("mrn"),
    }


def generate_summary(
    record: Mapping[str, Any],
    options: SummaryOptions,
    config: ProviderConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SummaryResult:
    """Summarise ``record`` for ``options.audience``.

    Raises :class:`SummaryError`. The heading and the sources always come from the record,
    never from the model; medications and diagnoses that cannot be found in the record are
    moved to ``unverified``; the narrative is cut to the hard word cap.
    """
    _check(record, options, config)
    view = build_view(record, deidentify=options.deidentify)
    if config.provider == "local":
        reply = local_summarize(view, options)
        model, usage, attempts = LOCAL_MODEL, None, 1
    else:
        outcome = OpenAIProvider(config, sleep=sleep).complete(
            build_messages(view, options),
            check=lambda data: reply_problems(data, options, record),
        )
        reply, model, usage, attempts = outcome.data, outcome.model, outcome.usage, outcome.attempts

    lists = {name: _clean_list(reply.get(name)) for name in LIST_FIELDS}
    medications, diagnoses, unverified = ground(record, lists["medications"], lists["diagnoses"])
    narrative = enforce_word_cap(
        plain_text(str(reply.get("narrative") or "")), word_cap(options.length)
    )
    return SummaryResult(
        heading=_heading(record),
        narrative=narrative,
        diagnoses=diagnoses,
        medications=medications,
        allergies=lists["allergies"],
        observations=lists["observations"],
        plan=lists["plan"],
        sources={
            "notes": [str(n.get("id")) for n in record.get("notes") or []],
            "interactions": [str(i.get("id")) for i in record.get("interactions") or []],
        },
        unverified=unverified,
        provider=config.provider,
        model=model,
        prompt_version=PROMPT_VERSION,
        usage=usage,
        attempts=attempts,
    )
