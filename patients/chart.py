"""The patient chart (the patient's page in the staff console) and its panel registry.

The chart shows the patient's demographics and timeline itself; other slices add panels
without this module knowing them, the way timeline sources are added: each contributor
registers in its own ``admin.py``::

    register_chart_panel("clinical", order=20, template="admin/notes/clinical_panel.html",
                         context=clinical_panel_context)

``context(request, patient)`` returns the panel template's context (or ``None`` to hide
the panel) and should cost a fixed number of queries whatever the patient's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from patients.models import Patient

PanelContext = Callable[["HttpRequest", "Patient"], dict[str, Any] | None]


@dataclass(frozen=True)
class ChartPanel:
    name: str
    order: int
    template: str
    context: PanelContext


_panels: dict[str, ChartPanel] = {}


def register_chart_panel(name: str, *, order: int, template: str, context: PanelContext) -> None:
    """Register (idempotently, by ``name``) a panel of the patient chart."""
    _panels[name] = ChartPanel(name=name, order=order, template=template, context=context)


def chart_panels(request: HttpRequest, patient: Patient) -> list[dict[str, Any]]:
    """The registered panels in order, each with its rendered context."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(request, patient)
        if context is not None:
            shown.append({"name": panel.name, "template": panel.template, **context})
    return shown
