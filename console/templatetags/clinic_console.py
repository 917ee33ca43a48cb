from __future__ import annotations

from typing import Any

from django import template

from console.dashboard import dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def clinic_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    return dashboard(context["request"])
