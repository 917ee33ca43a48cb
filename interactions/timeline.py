"""Interactions on the patient timeline (``at`` is when the contact happened).

Only current entries appear: an amended entry is represented by its amendment, and a
retracted one was entered in error. The full record stays available from
``/api/v1/patients/{id}/interactions/?include_history=true``.
"""

from __future__ import annotations

from interactions.models import Interaction
from patients.models import Patient
from patients.timeline import TimelineItem, TimelineQuery, window

NOTES_PREVIEW_LENGTH = 200


def interaction_items(patient: Patient, query: TimelineQuery) -> list[TimelineItem]:
    """At most ``query.limit`` current interactions of ``patient``, newest first, in one
    query."""
    rows = (
        Interaction.objects.current()
        .filter(window(query, "occurred_at"), patient=patient)
        .select_related("outcome", "doctor")
        .order_by("-occurred_at", "-id")[: query.limit]
    )
    items = []
    for i in rows:
        title = f"Interaction: {i.outcome.label}"
        if i.doctor is not None:
            title += f" ({i.doctor.full_name})"
        items.append(
            TimelineItem(
                type="interaction",
                id=i.pk,
                at=i.occurred_at,
                title=title,
                data={
                    "outcome": i.outcome_id,
                    "outcome_label": i.outcome.label,
                    "outcome_severity": i.outcome.severity,
                    "doctor_id": i.doctor_id,
                    "appointment_id": i.appointment_id,
                    "notes_preview": i.notes[:NOTES_PREVIEW_LENGTH],
                    "amends": i.amends_id,
                },
            )
        )
    return items
