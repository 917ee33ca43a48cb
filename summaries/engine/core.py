"""Public value types of the engine: options, provider configuration, result and error."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar, get_args

Audience = Literal["clinician", "family", "patient"]
Length = Literal["brief", "standard", "detailed"]
ProviderName = Literal["openai", "local"]


class JobErrorCode(StrEnum):
    """Every ``error.code`` a failed summary job records (the one list of them)."""

    INVALID_MODEL_OUTPUT = "invalid_model_output"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_RATE_LIMITED = "provider_rate_limited"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    CONFIGURATION_ERROR = "configuration_error"
    # Recorded by the job runner (summaries.runs), not by the engine.
    TIMED_OUT = "timed_out"
    INTERNAL_ERROR = "internal_error"


# The one list of each (the models' choices and CHECK constraints are built from these).
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
LENGTHS: tuple[Length, ...] = get_args(Length)
PROVIDERS: tuple[ProviderName, ...] = get_args(ProviderName)
_Choice = TypeVar("_Choice", bound=str)


def _one_of(value: str, allowed: tuple[_Choice, ...], what: str) -> _Choice:
    for option in allowed:
        if option == value:
            return option
    raise ValueError(f"unknown {what} {value!r}")


@dataclass(frozen=True)
class SummaryOptions:
    audience: Audience = "clinician"
    length: Length = "standard"
    deidentify: bool = True

    @classmethod
    def parse(cls, *, audience: str, length: str, deidentify: bool) -> SummaryOptions:
        """Options from strings already validated elsewhere (a request, a stored job)."""
        return cls(
            audience=_one_of(audience, AUDIENCES, "audience"),
            length=_one_of(length, LENGTHS, "length"),
            deidentify=deidentify,
        )


@dataclass(frozen=True)
class ProviderConfig:
    provider: ProviderName
    model: str = "gpt-4o-mini"
    # repr=False keeps the key out of logs, tracebacks and Celery task reprs.
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 3
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0


@dataclass(frozen=True)
class SummaryResult:
    heading: dict[str, Any]
    narrative: str
    diagnoses: list[str]
    medications: list[str]
    allergies: list[str]
    observations: list[str]
    plan: list[str]
    sources: dict[str, list[str]]
    unverified: dict[str, list[str]]
    provider: str
    model: str
    prompt_version: str
    usage: dict[str, int] | None
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-compatible deep copy, suitable for a JSONField."""
        return asdict(self)


class SummaryError(Exception):
    """Failure to produce a summary.

    ``retryable`` tells the caller (e.g. a Celery task) whether trying again later can help;
    ``attempts`` is the number of provider calls made. ``message`` never contains the API key.
    """

    def __init__(
        self, code: JobErrorCode, message: str, retryable: bool = False, attempts: int = 0
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code: JobErrorCode = code
        self.message = message
        self.retryable = retryable
        self.attempts = attempts

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the exception picklable (Celery result backends pickle/serialise errors).
        return (type(self), (self.code, self.message, self.retryable, self.attempts))
