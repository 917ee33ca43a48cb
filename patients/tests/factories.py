from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from core.actors import system_actor
from patients.models import Gender, Patient
from patients.services import patient_create


class PatientFactory(factory.Factory[Patient]):
    """Builds patients through the real service (MRN assignment included)."""

    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=dt.date(1940, 1, 1), end_date=dt.date(2015, 12, 31)
    )
    gender = factory.Iterator([g.value for g in Gender])
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = None

    @classmethod
    def _create(cls, model_class: type[Patient], *args: Any, **kwargs: Any) -> Patient:
        # Test data no person made: the system account, as a seeder would.
        actor = kwargs.pop("actor", None) or system_actor()
        return patient_create(actor=actor, **kwargs)
