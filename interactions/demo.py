"""Demo interactions: a short history for each demo patient, with one amendment and one
retraction to show the correction model. Times are relative to ``now``; ids are fixed,
so running it again creates nothing new. A missing demo patient is skipped quietly."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from core.actors import system_actor
from doctors.demo import DEMO_DOCTORS
from doctors.models import Doctor
from interactions.models import Interaction
from interactions.services import (
    interaction_amend,
    interaction_record,
    interaction_retract,
    latest_outcome_rebuild,
)
from outcomes.models import Outcome
from patients.models import Patient

NAMESPACE = uuid.UUID("a9901000-0000-4000-8000-000000000004")
DEMO_PATIENTS = 36
NOTES = {
    "healthy": "Routine check; no concerns. Vitals within normal range.",
    "monitor": "Blood pressure slightly raised; recheck in two weeks.",
    "critical": "Chest pain on exertion; referred for urgent cardiology review.",
}


def demo_patient_id(n: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clinic-demo-patient-{n}")


def _interaction_id(n: int, k: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"demo-interaction-{n}-{k}")


def _plan(n: int) -> list[str]:
    """Outcomes, oldest first: most patients are fine, some to watch, a few critical."""
    if n % 9 == 0:
        return ["monitor", "critical"]
    if n % 4 == 0:
        return ["healthy", "monitor", "monitor"]
    return ["healthy", "healthy"] if n % 2 else ["monitor", "healthy", "healthy"]


def seed(*, now: datetime) -> str:
    outcomes = Outcome.objects.in_bulk()
    patients = Patient.objects.in_bulk([demo_patient_id(n) for n in range(1, DEMO_PATIENTS + 1)])
    doctors = list(Doctor.objects.filter(pk__in=[d["pk"] for d in DEMO_DOCTORS]).order_by("email"))
    existing = set(Interaction.objects.filter(patient__in=patients).values_list("pk", flat=True))
    created = skipped = 0
    actor = system_actor()  # the demo clinic is made by the seeder, not by a person
    for n in range(1, DEMO_PATIENTS + 1):
        patient = patients.get(demo_patient_id(n))
        if patient is None:
            continue
        plan = _plan(n)
        for k, code in enumerate(plan):
            pk = _interaction_id(n, k)
            if pk in existing or code not in outcomes:
                skipped += 1
                continue
            interaction_record(
                patient=patient,
                outcome=outcomes[code],
                notes=NOTES[code],
                occurred_at=now - timedelta(days=30 * (len(plan) - k), hours=n % 7),
                doctor=doctors[(n + k) % len(doctors)] if doctors else None,
                actor=actor,
                now=now,
                pk=pk,
            )
            created += 1
        created += _corrections(n, now=now, existing=existing, outcomes=outcomes, actor=actor)
    # Reloading the demo patients' fixture resets their maintained latest outcome.
    latest_outcome_rebuild(patient_ids=patients)
    return f"{created} demo interactions created, {skipped} already present"


def _corrections(
    n: int,
    *,
    now: datetime,
    existing: set[uuid.UUID],
    outcomes: dict[str, Outcome],
    actor: User,
) -> int:
    """Patient 1's first entry is amended, patient 2's first entry retracted."""
    if n == 1 and _interaction_id(1, 99) not in existing and "monitor" in outcomes:
        interaction_amend(
            interaction=Interaction.objects.get(pk=_interaction_id(1, 0)),
            outcome=outcomes["monitor"],
            notes="Corrected: mild anaemia on the blood count; repeat in a month.",
            actor=actor,
            now=now,
            pk=_interaction_id(1, 99),
        )
        return 1
    if n == 2:
        target = Interaction.objects.get(pk=_interaction_id(2, 0))
        if target.is_current:
            interaction_retract(
                interaction=target, reason="Recorded on the wrong patient.", actor=actor, now=now
            )
    return 0
