"""Pure-Python clinical note reading engine (stdlib only).

Public API: :func:`analyze_note`, :class:`NoteAnalysis`, :func:`evaluate_dataset`,
:func:`format_report`, :func:`condition_key`.
"""

from .analyzer import ENGINE_VERSION, NoteAnalysis, analyze_note
from .diagnoses import condition_key
from .evaluation import evaluate_dataset, format_report
from .picture import clinical_picture

__all__ = [
    "ENGINE_VERSION",
    "NoteAnalysis",
    "analyze_note",
    "clinical_picture",
    "condition_key",
    "evaluate_dataset",
    "format_report",
]
