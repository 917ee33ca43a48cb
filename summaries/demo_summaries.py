"""The demo clinic's summaries at a fixed moment, for the golden files and the readability
report (``bench/summaries_readability.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db import transaction

from notes.demo import demo_patient_id
from patients.models import Patient
from summaries.engine import ProviderConfig, SummaryOptions, SummaryResult, generate_summary
from summaries.engine.core import AUDIENCES, LENGTHS
from summaries.record import build_record

#: The demo clinic as of this moment (fixed, so the text does not change with the date).
DEMO_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
#: Three demo patients with notes: Haddad (heart failure admission), Nguyen, Garcia.
GOLDEN_PATIENTS = (2, 5, 12)


def seed_demo_clinic(now: datetime = DEMO_NOW) -> None:
    """What ``manage.py seed_demo`` does, at ``now``."""
    for config in apps.get_app_configs():
        module_name = f"{config.name}.demo"
        if find_spec(module_name) is None:
            continue
        with transaction.atomic():
            import_module(module_name).seed(now=now)


def demo_summaries(
    numbers: tuple[int, ...] = GOLDEN_PATIENTS, now: datetime = DEMO_NOW
) -> Iterator[tuple[Patient, SummaryOptions, SummaryResult]]:
    """Local summaries of the demo patients for every audience and length (de-identified)."""
    config = ProviderConfig(provider="local")
    for number in numbers:
        patient = Patient.objects.get(pk=demo_patient_id(number))
        record = build_record(patient, now=now)
        for audience in AUDIENCES:
            for length in LENGTHS:
                options = SummaryOptions(audience=audience, length=length)
                yield patient, options, generate_summary(record, options, config)


def render(result: SummaryResult) -> str:
    """A summary as a reviewer reads it: the narrative, then each list."""
    lines = [result.narrative, ""]
    for name in ("diagnoses", "medications", "allergies", "observations", "plan"):
        lines.append(f"{name}:")
        lines.extend(f"  {item}" for item in getattr(result, name))
    return "\n".join(lines) + "\n"
