"""Pure-Python clinical note reading engine (stdlib only).

Public API: :func:`analyze_note`, :class:`NoteAnalysis`, :func:`evaluate_dataset`,
:func:`format_report`, :func:`condition_key`.
"""

from .analyzer import ENGINE_VERSION, NoteAnalysis, analyze_note
from .diagnoses import condition_key
from .evaluation import evaluate_dataset, format_report

__all__ = [
    "ENGINE_VERSION",
    "NoteAnalysis",
    "analyze_note",
    "condition_key",
    "evaluate_dataset",
    "format_report",
]
