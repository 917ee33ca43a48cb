"""Patient summary engine: turns a clinic record into a grounded, audience-aware summary.

Self-contained (no Django); the only third-party dependency is the ``openai`` client, and
only for the ``openai`` provider.
"""

from .core import ProviderConfig, SummaryError, SummaryOptions, SummaryResult
from .prompt import PROMPT_VERSION
from .summarize import compute_input_hash, generate_summary

__all__ = [
    "PROMPT_VERSION",
    "ProviderConfig",
    "SummaryError",
    "SummaryOptions",
    "SummaryResult",
    "compute_input_hash",
    "generate_summary",
]
