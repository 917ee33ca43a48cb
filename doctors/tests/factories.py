from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from doctors.models import Doctor


class DoctorFactory(DjangoModelFactory[Doctor]):
    class Meta:
        model = Doctor

    full_name = factory.Sequence(lambda n: f"Dr. Test Doctor {n}")
    specialty = "General Practice"
    email = factory.Sequence(lambda n: f"doctor{n}@clinic.example")
    is_active = True
