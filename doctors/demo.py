"""Demo doctors: several specialties, one inactive, with fixed ids (idempotent)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.actors import system_actor
from doctors.models import Doctor
from doctors.services import doctor_create

DEMO_DOCTORS: list[dict[str, Any]] = [
    {
        "pk": uuid.UUID("d0c70000-0000-4000-8000-000000000001"),
        "full_name": "Dr. Amara Okafor",
        "specialty": "Cardiology",
        "email": "amara.okafor@clinic.example",
        "phone": "+14155550101",
    },
    {
        "pk": uuid.UUID("d0c70000-0000-4000-8000-000000000002"),
        "full_name": "Dr. Lukas Becker",
        "specialty": "General Practice",
        "email": "lukas.becker@clinic.example",
        "phone": "+14155550102",
    },
    {
        "pk": uuid.UUID("d0c70000-0000-4000-8000-000000000003"),
        "full_name": "Dr. Priya Raman",
        "specialty": "Dermatology",
        "email": "priya.raman@clinic.example",
    },
    {
        "pk": uuid.UUID("d0c70000-0000-4000-8000-000000000004"),
        "full_name": "Dr. Sofia Marquez",
        "specialty": "Pediatrics",
        "email": "sofia.marquez@clinic.example",
    },
    {
        "pk": uuid.UUID("d0c70000-0000-4000-8000-000000000005"),
        "full_name": "Dr. Henrik Lund",
        "specialty": "Orthopedics",
        "email": "henrik.lund@clinic.example",
        "is_active": False,
    },
]


def seed(*, now: datetime) -> str:
    existing = set(
        Doctor.objects.filter(pk__in=[d["pk"] for d in DEMO_DOCTORS]).values_list("pk", flat=True)
    )
    created = 0
    actor = system_actor()  # the demo clinic is made by the seeder, not by a person
    for data in DEMO_DOCTORS:
        if data["pk"] not in existing:
            doctor_create(**data, actor=actor)
            created += 1
    return f"{created} demo doctors created, {len(DEMO_DOCTORS) - created} already present"
