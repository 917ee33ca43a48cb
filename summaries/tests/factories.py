from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from patients.tests.factories import PatientFactory
from summaries.engine import PROMPT_VERSION
from summaries.models import Summary, SummaryStatus

__all__ = ["PatientFactory", "SummaryFactory"]


class SummaryFactory(DjangoModelFactory[Summary]):
    """Rows in a given state for set-up (a stuck or failed job); real jobs go through the
    services."""

    class Meta:
        model = Summary

    patient = factory.SubFactory(PatientFactory)
    audience = "clinician"
    length = "standard"
    status = SummaryStatus.QUEUED
    provider = "local"
    model = "local-rules-v1"
    prompt_version = PROMPT_VERSION
    input_hash = factory.Sequence(lambda n: f"{n:064x}")
