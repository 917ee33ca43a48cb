"""The console's dashboard (the admin index): today's work and two server-side SVG charts.

Charts are drawn here as inline SVG so the console works offline (no CDN, no JavaScript
library to vendor). Every figure costs one query whatever the clinic's size.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import CRITICAL_SEVERITY, clinic_today, clinic_zone

OUTCOME_COLOURS = ("#2d6a4f", "#e9c46a", "#c1121f", "#457b9d", "#8d99ae", "#6a4c93")
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 560, 180, 28


def _n(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(
    series: list[tuple[str, dict[str, int]]], keys: list[tuple[str, str]], *, title: str
) -> SafeString:
    """Stacked bars, one per ``(label, {key: value})``; ``keys`` are ``(key, legend)``."""
    if not any(sum(values.values()) for _, values in series):
        return format_html('<p class="clinic-empty">{}</p>', f"Nothing in this period ({title}).")
    top = max((sum(v.values()) for _, v in series), default=0) or 1
    slot = (CHART_WIDTH - 2 * CHART_PAD) / len(series)
    bar = max(slot * 0.7, 1)
    usable = CHART_HEIGHT - 2 * CHART_PAD
    parts: list[SafeString] = []
    for index, (label, values) in enumerate(series):
        x = CHART_PAD + index * slot + (slot - bar) / 2
        y: float = CHART_HEIGHT - CHART_PAD
        total = 0
        for position, (key, legend) in enumerate(keys):
            value = values.get(key, 0)
            if not value:
                continue
            height = value / top * usable
            y -= height
            total += value
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    _n(x),
                    _n(y),
                    _n(bar),
                    _n(height),
                    OUTCOME_COLOURS[position % len(OUTCOME_COLOURS)],
                    label,
                    value,
                    legend,
                )
            )
        if total:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x + bar / 2),
                    _n(y - 3),
                    total,
                )
            )
        if len(series) <= 16 or index % 5 == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x + bar / 2),
                    CHART_HEIGHT - CHART_PAD + 14,
                    label,
                )
            )
    legend = format_html_join(
        "",
        '<rect x="{}" y="4" width="10" height="10" fill="{}"></rect><text x="{}" y="13">{}</text>',
        (
            (
                CHART_PAD + i * 110,
                OUTCOME_COLOURS[i % len(OUTCOME_COLOURS)],
                CHART_PAD + i * 110 + 14,
                name,
            )
            for i, (_, name) in enumerate(keys)
        ),
    )
    return format_html(
        '<svg class="clinic-chart-svg" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-width="0.5">'
        "</line></svg>",
        CHART_WIDTH,
        CHART_HEIGHT,
        title,
        legend,
        format_html_join("", "{}", ((p,) for p in parts)),
        CHART_PAD,
        CHART_HEIGHT - CHART_PAD,
        CHART_WIDTH - CHART_PAD,
        CHART_HEIGHT - CHART_PAD,
    )


def dashboard(request: HttpRequest) -> dict[str, Any]:
    from appointments.hours import day_bounds
    from appointments.models import Appointment, AppointmentStatus
    from interactions.models import Interaction
    from notes.models import ExtractionStatus, Note, NoteStatus
    from outcomes.models import Outcome
    from patients.models import Patient
    from summaries.models import Summary, SummaryStatus

    user = request.user
    now = timezone.now()
    today = clinic_today()
    start, end = day_bounds(today)
    zone = clinic_zone()
    context: dict[str, Any] = {"today": today}
    if user.has_perm("appointments.view_appointment"):
        context["today_by_doctor"] = list(
            Appointment.objects.filter(start_time__gte=start, start_time__lt=end)
            .exclude(status=AppointmentStatus.CANCELLED)
            .values("doctor__full_name")
            .annotate(count=Count("id"), left=Count("id", filter=Q(start_time__gte=now)))
            .order_by("doctor__full_name")
        )
        horizon = day_bounds(today + timedelta(days=13))[1]
        per_day = dict(
            Appointment.objects.scheduled()
            .filter(start_time__gte=start, start_time__lt=horizon)
            .annotate(day=TruncDate("start_time", tzinfo=zone))
            .values_list("day")
            .annotate(count=Count("id"))
            .values_list("day", "count")
        )
        days = [today + timedelta(days=n) for n in range(14)]
        context["appointments_chart"] = bar_chart(
            [
                (
                    f"{d.day} {d:%b}" if n == 0 or d.day == 1 else str(d.day),
                    {"scheduled": per_day.get(d, 0)},
                )
                for n, d in enumerate(days)
            ],
            [("scheduled", "scheduled")],
            title="Appointments per day, next 14 days",
        )
    if user.has_perm("patients.view_patient"):
        critical = Patient.objects.filter(latest__outcome__severity__gte=CRITICAL_SEVERITY)
        context["critical_count"] = critical.count()
        context["critical"] = list(
            critical.select_related("latest__outcome").order_by("-latest__occurred_at", "id")[:10]
        )
    if user.has_perm("interactions.view_interaction"):
        since = day_bounds(today - timedelta(days=29))[0]
        rows = (
            Interaction.objects.current()
            .filter(occurred_at__gte=since)
            .annotate(day=TruncDate("occurred_at", tzinfo=zone))
            .values_list("day", "outcome_id")
            .annotate(count=Count("id"))
        )
        counts: dict[Any, dict[str, int]] = {}
        for day, outcome_id, count in rows:
            counts.setdefault(day, {})[outcome_id] = count
        outcomes = list(Outcome.objects.order_by("severity", "code").values_list("code", "label"))
        days = [today - timedelta(days=n) for n in range(29, -1, -1)]
        context["interactions_chart"] = bar_chart(
            [(str(d.day), counts.get(d, {})) for d in days],
            outcomes,
            title="Interactions by outcome, last 30 days",
        )
    if user.has_perm("summaries.view_summary"):
        context["failed_summaries"] = Summary.objects.filter(
            status=SummaryStatus.FAILED, finished_at__gte=now - timedelta(hours=24)
        ).count()
    if user.has_perm("notes.view_note"):
        notes = Note.objects.current()
        context["notes_transcription"] = notes.filter(
            extraction_status=ExtractionStatus.NEEDS_TRANSCRIPTION
        ).count()
        context["notes_unsigned"] = notes.filter(status=NoteStatus.DRAFT).count()
    return context
