from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from appointments.tests.factories import PatientFactory
from interactions.models import Interaction
from outcomes.models import Outcome


class InteractionFactory(DjangoModelFactory[Interaction]):
    """Rows for set-up, written directly (no latest_outcome upkeep). Tests of the rules
    and of latest_outcome record through the services instead."""

    class Meta:
        model = Interaction

    patient = factory.SubFactory(PatientFactory)
    outcome = factory.LazyFunction(lambda: Outcome.objects.get(pk="healthy"))
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    notes = "Seen today."
