"""Appointments on the patient timeline (``at`` is the start time)."""

from __future__ import annotations

from appointments.models import Appointment
from patients.models import Patient
from patients.timeline import TimelineItem, TimelineQuery, window


def appointment_items(patient: Patient, query: TimelineQuery) -> list[TimelineItem]:
    """At most ``query.limit`` appointments of ``patient``, newest first, in one query."""
    rows = (
        Appointment.objects.filter(window(query, "start_time"), patient=patient)
        .select_related("doctor")
        .order_by("-start_time", "-id")[: query.limit]
    )
    return [
        TimelineItem(
            type="appointment",
            id=a.pk,
            at=a.start_time,
            title=f"Appointment with {a.doctor.full_name} ({a.get_status_display().lower()})",
            data={
                "status": a.status,
                "end_time": a.end_time,
                "duration_minutes": a.duration_minutes,
                "doctor_id": a.doctor_id,
                "doctor_name": a.doctor.full_name,
                "reason": a.reason,
            },
        )
        for a in rows
    ]
