"""The sample files in fixtures/samples/ (the documentation's examples) import cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from interactions.models import Interaction
from patients.models import Patient
from transfers.tests.conftest import Upload

pytestmark = pytest.mark.django_db
SAMPLES = Path(settings.BASE_DIR) / "fixtures" / "samples"


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_each_sample_imports(fmt: str, import_patients: Upload, import_interactions: Upload):
    patients = import_patients((SAMPLES / f"patients.{fmt}").read_bytes())
    interactions = import_interactions((SAMPLES / f"interactions.{fmt}").read_bytes())

    assert patients.status_code == 200, patients.json()
    assert interactions.status_code == 200, interactions.json()
    assert Patient.objects.count() == patients.json()["created"] > 0
    assert Interaction.objects.count() == interactions.json()["created"] > 0
    assert Patient.objects.filter(latest__isnull=False).exists()
