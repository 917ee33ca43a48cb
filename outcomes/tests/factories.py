from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from outcomes.models import Outcome


class OutcomeFactory(DjangoModelFactory[Outcome]):
    class Meta:
        model = Outcome

    code = factory.Sequence(lambda n: f"outcome-{n}")
    label = factory.Sequence(lambda n: f"Outcome {n}")
    severity = 1
    sort_order = 10
