"""OpenAI chat.completions provider with our own retry policy.

The client is created with ``max_retries=0`` so that retries, backoff and the attempt count
are all ours (and the sleep function can be injected in tests). Policy:

* 429, 5xx, connection errors and timeouts: retried up to ``max_retries`` times with
  exponential backoff and full jitter (``uniform(0, min(max, base * 2**n))``);
* a 400 that rejects ``response_format``/``json_schema``: the same request is sent again
  with ``{"type": "json_object"}`` (the prompt names the keys, and the reply is validated
  either way); this does not use up a retry;
* any other 4xx: fails at once with ``provider_error``;
* a reply that is not JSON or does not match the schema: the request is repeated once,
  then ``invalid_model_output``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import openai

from .core import JobErrorCode, ProviderConfig, SummaryError
from .prompt import JSON_OBJECT_FORMAT, JSON_SCHEMA_FORMAT, validate_reply

#: How many times an invalid reply is re-requested before giving up.
INVALID_REPLY_RETRIES = 1

_KEY_LIKE = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)bearer\s+\S+")


@dataclass(frozen=True)
class ProviderReply:
    data: dict[str, Any]
    model: str
    usage: dict[str, int] | None
    attempts: int


def scrub(text: str, api_key: str | None) -> str:
    """Remove the API key (and anything that looks like a key or bearer token)."""
    if api_key:
        text = text.replace(api_key, "[REDACTED]")
    text = _BEARER.sub("Bearer [REDACTED]", text)
    return _KEY_LIKE.sub("[REDACTED]", text)


def backoff_delay(retry_number: int, base: float, cap: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff for the ``retry_number``-th retry (1-based)."""
    return rng.uniform(0.0, min(cap, base * (2 ** (retry_number - 1))))


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
    return exc.message


def _rejects_json_schema(exc: openai.APIStatusError) -> bool:
    if exc.status_code != 400:
        return False
    body = exc.body if isinstance(exc.body, dict) else {}
    text = f"{_error_message(exc)} {body.get('param') or ''}".lower()
    return "response_format" in text or "json_schema" in text


def _usage(response: Any) -> dict[str, int] | None:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    fields = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {name: int(getattr(usage, name, 0) or 0) for name in fields}


def _parse(response: Any) -> dict[str, Any]:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise ValueError("reply has no choices")
    message = choices[0].message
    if getattr(message, "refusal", None):
        raise ValueError("model refused to answer")
    content = message.content
    if not isinstance(content, str) or not content.strip():
        raise ValueError("reply has no content")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"reply is not valid JSON ({exc.msg})") from None
    return validate_reply(data)


class OpenAIProvider:
    def __init__(
        self,
        config: ProviderConfig,
        *,
        sleep: Callable[[float], None],
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 (backoff jitter, not cryptography)

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        check: Callable[[dict[str, Any]], list[str]] | None = None,
    ) -> ProviderReply:
        """Ask the model; ``check`` lists a valid reply's problems (``style.reply_problems``):
        a reply with problems is asked for again once, and the second one is kept."""
        config = self._config
        client = openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_seconds,
            max_retries=0,
        )
        try:
            return self._run(client, messages, check)
        finally:
            client.close()

    def _fail(
        self, code: JobErrorCode, message: str, *, retryable: bool, attempts: int
    ) -> SummaryError:
        return SummaryError(code, scrub(message, self._config.api_key), retryable, attempts)

    def _run(
        self,
        client: openai.OpenAI,
        messages: list[dict[str, str]],
        check: Callable[[dict[str, Any]], list[str]] | None,
    ) -> ProviderReply:
        config = self._config
        response_format = JSON_SCHEMA_FORMAT
        attempts = 0
        transient_retries = 0
        invalid_replies = 0
        rechecked = False
        while True:
            attempts += 1
            failure: tuple[JobErrorCode, str] | None = None
            try:
                response = client.chat.completions.create(
                    model=config.model,
                    messages=cast(Any, messages),
                    response_format=cast(Any, response_format),
                )
            except openai.APITimeoutError:
                failure = (
                    JobErrorCode.PROVIDER_TIMEOUT,
                    f"no reply within {config.timeout_seconds}s",
                )
            except openai.APIConnectionError as exc:
                failure = (JobErrorCode.PROVIDER_UNAVAILABLE, f"connection failed: {exc.message}")
            except openai.RateLimitError as exc:
                failure = (
                    JobErrorCode.PROVIDER_RATE_LIMITED,
                    f"rate limited: {_error_message(exc)}",
                )
            except openai.APIStatusError as exc:
                if exc.status_code >= 500:
                    failure = (
                        JobErrorCode.PROVIDER_UNAVAILABLE,
                        f"HTTP {exc.status_code}: {_error_message(exc)}",
                    )
                elif response_format is JSON_SCHEMA_FORMAT and _rejects_json_schema(exc):
                    response_format = JSON_OBJECT_FORMAT
                    continue
                else:
                    raise self._fail(
                        JobErrorCode.PROVIDER_ERROR,
                        f"HTTP {exc.status_code}: {_error_message(exc)}",
                        retryable=False,
                        attempts=attempts,
                    ) from None
            except openai.OpenAIError as exc:
                raise self._fail(
                    JobErrorCode.PROVIDER_ERROR,
                    str(exc) or type(exc).__name__,
                    retryable=False,
                    attempts=attempts,
                ) from None

            if failure is not None:
                code, message = failure
                if transient_retries >= config.max_retries:
                    raise self._fail(
                        code,
                        f"{message} (gave up after {attempts} attempts)",
                        retryable=True,
                        attempts=attempts,
                    )
                transient_retries += 1
                self._sleep(
                    backoff_delay(
                        transient_retries,
                        config.backoff_base_seconds,
                        config.backoff_max_seconds,
                        self._rng,
                    )
                )
                continue

            try:
                data = _parse(response)
            except ValueError as exc:
                invalid_replies += 1
                if invalid_replies > INVALID_REPLY_RETRIES:
                    # Not retryable: the same prompt already failed twice; looping from a
                    # task queue would only burn tokens.
                    raise self._fail(
                        JobErrorCode.INVALID_MODEL_OUTPUT,
                        str(exc),
                        retryable=False,
                        attempts=attempts,
                    ) from None
                continue
            if check is not None and not rechecked and check(data):
                rechecked = True  # one more request, as for malformed JSON
                continue
            return ProviderReply(
                data=data,
                model=str(getattr(response, "model", "") or config.model),
                usage=_usage(response),
                attempts=attempts,
            )
