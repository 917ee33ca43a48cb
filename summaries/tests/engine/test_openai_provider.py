"""The OpenAI provider against a real local HTTP server, through the real openai client."""

from __future__ import annotations

import json
import re
import time

import pytest

from summaries.engine import (
    PROMPT_VERSION,
    ProviderConfig,
    SummaryError,
    SummaryOptions,
    generate_summary,
)
from summaries.engine.core import Audience, Length
from summaries.engine.record import PatientRecord
from summaries.tests.engine.sample import API_KEY, DOB, EMAIL, FIRST_NAME, LAST_NAME, MRN, reply
from summaries.tests.fake_openai import FakeOpenAI, ok, status


def config(fake: FakeOpenAI, **overrides: object) -> ProviderConfig:
    values: dict[str, object] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "api_key": API_KEY,
        "base_url": fake.base_url,
        "timeout_seconds": 5.0,
        "max_retries": 3,
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.004,
    }
    values.update(overrides)
    return ProviderConfig(**values)  # type: ignore[arg-type]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_request_carries_model_messages_schema_and_note_text(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue(ok(reply()))
    generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())

    [request] = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    system, user = (m["content"] for m in body["messages"])
    assert "do not invent" in system.lower()
    assert "JSON" in system
    # Note content (content-only note) and sections (SOAP note) are both rendered.
    assert "productive cough and fever" in user
    assert "right lower lobe consolidation" in user
    assert "improving on antibiotics" in user
    assert "Continue amoxicillin 1 g PO TID" in user
    assert "Afebrile overnight" in user  # interaction notes
    assert "cardiology" in user and "Dr. Lindqvist" in user  # appointments keep staff names
    assert '"age":62' in user


def _identifier_forms() -> list[str]:
    return [
        FIRST_NAME,
        LAST_NAME,
        "Quintanilla",
        MRN,
        "0048213",
        EMAIL,
        "617-555-0199",
        "617 555 0199",
        "(617) 555-0199",
        "6175550199",
        "555-0199",
        DOB,
        "03/04/1964",
        "March 4, 1964",
    ]


def test_deidentified_request_contains_no_patient_identifiers(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue(ok(reply()))
    generate_summary(record, SummaryOptions(deidentify=True), config(fake_openai), sleep=Sleeps())

    raw = fake_openai.requests[0].raw_body
    lowered = raw.lower()
    for identifier in _identifier_forms():
        assert identifier.lower() not in lowered, identifier
    digits_only = re.sub(r"\D", "", raw)
    assert "6175550199" not in digits_only
    assert "[PATIENT]" in raw and "[MRN]" in raw and "[PHONE]" in raw
    assert "[EMAIL]" in raw and "[DOB]" in raw


def test_identified_request_keeps_name_and_mrn(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue(ok(reply()))
    generate_summary(record, SummaryOptions(deidentify=False), config(fake_openai), sleep=Sleeps())

    raw = fake_openai.requests[0].raw_body
    for identifier in (FIRST_NAME, LAST_NAME, MRN, EMAIL, "617-555-0199", "03/04/1964"):
        assert identifier in raw, identifier
    assert "[PATIENT]" not in raw


def test_success_fills_result_and_usage(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.enqueue(ok(reply(), usage=(321, 123)))
    result = generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())

    assert result.narrative.startswith("61-year-old female")
    assert result.diagnoses == ["Community-acquired pneumonia", "Hypertension"]
    assert result.medications == ["amoxicillin 1 g PO TID", "lisinopril 10 mg PO daily"]
    assert result.allergies == ["sulfa drugs (rash)"]
    assert result.plan[0] == "Repeat CXR in 6 weeks"
    assert result.usage == {"prompt_tokens": 321, "completion_tokens": 123, "total_tokens": 444}
    assert result.attempts == 1
    assert result.provider == "openai"
    assert result.model == "gpt-4o-mini"
    assert result.prompt_version == PROMPT_VERSION
    # Heading comes from the record, not from the model.
    assert result.heading == {
        "name": f"{FIRST_NAME} {LAST_NAME}",
        "age": 62,
        "date_of_birth": DOB,
        "gender": "female",
        "mrn": MRN,
    }
    assert result.sources == {"notes": ["note-1", "note-2"], "interactions": ["int-1", "int-2"]}
    assert result.unverified == {"medications": [], "diagnoses": []}
    json.dumps(result.as_dict())  # JSON-compatible


def test_rate_limited_then_success(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.enqueue("status:429", ok(reply()))
    sleeps = Sleeps()
    result = generate_summary(record, SummaryOptions(), config(fake_openai), sleep=sleeps)

    assert result.attempts == 2
    assert len(fake_openai.requests) == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.001


def test_rate_limited_until_exhausted(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.default = status(429)
    with pytest.raises(SummaryError) as info:
        generate_summary(
            record, SummaryOptions(), config(fake_openai, max_retries=2), sleep=Sleeps()
        )
    assert info.value.code == "provider_rate_limited"
    assert info.value.retryable is True
    assert info.value.attempts == 3


def test_server_errors_until_retries_exhausted(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.default = status(500, "The server had an error while processing your request.")
    sleeps = Sleeps()
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), config(fake_openai, max_retries=3), sleep=sleeps)

    error = info.value
    assert error.code == "provider_unavailable"
    assert error.retryable is True
    assert error.attempts == 4
    assert len(fake_openai.requests) == 4
    # Full jitter, exponential cap: retry n waits in [0, min(max, base * 2**(n-1))].
    assert len(sleeps) == 3
    for n, seconds in enumerate(sleeps, start=1):
        assert 0 <= seconds <= min(0.004, 0.001 * 2 ** (n - 1))


def test_timeout_is_retried_then_reported(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.enqueue("sleep:1.5", "sleep:1.5")
    started = time.monotonic()
    with pytest.raises(SummaryError) as info:
        generate_summary(
            record,
            SummaryOptions(),
            config(fake_openai, timeout_seconds=0.5, max_retries=1),
            sleep=Sleeps(),
        )
    elapsed = time.monotonic() - started

    assert info.value.code == "provider_timeout"
    assert info.value.retryable is True
    assert info.value.attempts == 2
    assert elapsed < 3


def test_connection_refused_is_unavailable(record: PatientRecord) -> None:
    with FakeOpenAI() as fake:
        base_url = fake.base_url  # the port is free again once the server stops
    cfg = ProviderConfig(
        provider="openai",
        api_key=API_KEY,
        base_url=base_url,
        max_retries=1,
        backoff_base_seconds=0.001,
        backoff_max_seconds=0.001,
    )
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), cfg, sleep=Sleeps())
    assert info.value.code == "provider_unavailable"
    assert info.value.attempts == 2


def test_malformed_reply_twice_is_invalid_output(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue("malformed", "malformed")
    sleeps = Sleeps()
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), config(fake_openai), sleep=sleeps)

    assert info.value.code == "invalid_model_output"
    assert info.value.attempts == 2
    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[0].body == fake_openai.requests[1].body  # same request again
    assert sleeps == []


def test_malformed_once_then_ok(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.enqueue("malformed", ok(reply()))
    result = generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())
    assert result.attempts == 2
    assert result.diagnoses


def test_schema_mismatch_counts_as_invalid(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    bad = reply(extra="not allowed")
    fake_openai.enqueue(ok(bad), ok({"narrative": 42}))
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())
    assert info.value.code == "invalid_model_output"
    assert info.value.attempts == 2


def test_bad_request_fails_at_once_without_leaking_key(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue("status:400")
    sleeps = Sleeps()
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), config(fake_openai), sleep=sleeps)

    error = info.value
    assert error.code == "provider_error"
    assert error.retryable is False
    assert error.attempts == 1
    assert len(fake_openai.requests) == 1
    assert sleeps == []
    assert "Invalid request" in error.message  # the provider's message is kept ...
    for text in (error.message, str(error), repr(error)):
        assert API_KEY not in text  # ... without the key it echoed
        assert "4f9a8b7c" not in text


def test_unauthorized_is_not_retried(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    fake_openai.enqueue("status:401")
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())
    assert info.value.code == "provider_error"
    assert info.value.attempts == 1
    assert API_KEY not in info.value.message


def test_json_schema_rejection_falls_back_to_json_object(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    fake_openai.enqueue("reject_json_schema", ok(reply()))
    result = generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())

    first, second = fake_openai.requests
    assert first.body["response_format"]["type"] == "json_schema"
    assert second.body["response_format"] == {"type": "json_object"}
    assert first.body["messages"] == second.body["messages"]
    assert result.attempts == 2
    assert result.medications


def test_hallucinated_items_land_in_unverified(
    fake_openai: FakeOpenAI, record: PatientRecord
) -> None:
    hallucinated = reply(
        medications=["amoxicillin 1 g PO TID", "warfarin 5 mg PO daily"],
        diagnoses=["Community-acquired pneumonia", "Pulmonary embolism", "HTN"],
    )
    fake_openai.enqueue(ok(hallucinated), ok(hallucinated))
    result = generate_summary(record, SummaryOptions(), config(fake_openai), sleep=Sleeps())

    assert len(fake_openai.requests) == 2  # asked again once; the second reply is kept
    assert result.attempts == 2

    assert result.medications == ["amoxicillin 1 g PO TID"]
    assert result.unverified["medications"] == ["warfarin 5 mg PO daily"]
    assert result.diagnoses == ["Community-acquired pneumonia", "HTN"]
    assert result.unverified["diagnoses"] == ["Pulmonary embolism"]


@pytest.mark.parametrize(("length", "cap"), [("brief", 80), ("standard", 200), ("detailed", 450)])
def test_narrative_is_capped_per_length(
    fake_openai: FakeOpenAI, record: PatientRecord, length: Length, cap: int
) -> None:
    sentence = "The patient remains stable on the ward with no new complaints today."
    too_long = ok(reply(narrative=" ".join([sentence] * 60)))  # 720 words
    fake_openai.enqueue(too_long, too_long)  # asked again once, then cut
    result = generate_summary(
        record,
        SummaryOptions(length=length),
        config(fake_openai),
        sleep=Sleeps(),
    )
    words = result.narrative.split()
    assert cap - 12 <= len(words) <= cap
    assert result.narrative.endswith(".")  # cut at a sentence boundary

    system = fake_openai.requests[0].body["messages"][0]["content"]
    assert f"never more than {cap}" in system


def test_audience_changes_the_prompt(fake_openai: FakeOpenAI, record: PatientRecord) -> None:
    audiences: tuple[Audience, ...] = ("clinician", "family", "patient")
    for audience in audiences:
        fake_openai.enqueue(ok(reply()), ok(reply()))
        generate_summary(
            record,
            SummaryOptions(audience=audience),
            config(fake_openai),
            sleep=Sleeps(),
        )
    systems = dict.fromkeys(r.body["messages"][0]["content"] for r in fake_openai.requests)
    clinician, family, patient = systems
    assert "clinical language" in clinician
    assert "jargon-free" in family and "third person" in family
    assert "second person" in patient and '"you"' in patient


def test_missing_api_key_is_configuration_error(record: PatientRecord) -> None:
    with pytest.raises(SummaryError) as info:
        generate_summary(record, SummaryOptions(), ProviderConfig(provider="openai"))
    assert info.value.code == "configuration_error"
    assert info.value.attempts == 0
