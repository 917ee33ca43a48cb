"""PatientSerializer writes its output fields out (the hottest read of the API); these
tests hold that representation equal to the one ModelSerializer derives from the
declared fields, row by row and as rendered JSON."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from core.actors import system_actor
from interactions.services import interaction_record
from outcomes.models import Outcome
from patients.api.serializers import PatientSerializer
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def generic(patient: Patient) -> dict[str, object]:
    """What DRF's ModelSerializer makes of the declared fields."""
    return dict(serializers.ModelSerializer.to_representation(PatientSerializer(), patient))


def patients() -> list[Patient]:
    """Rows with and without email, phone and latest outcome, from the database."""
    plain = PatientFactory.create(email=None, phone=None)
    contact = PatientFactory.create(phone="+14155552671", gender="female")
    seen = PatientFactory.create(email="Mixed.Case@Example.org", gender="unknown")
    interaction_record(
        patient=seen,
        outcome=Outcome.objects.get(pk="critical"),
        occurred_at=dt.datetime(2025, 3, 30, 1, 30, 5, 123456, tzinfo=dt.UTC),
        actor=system_actor(),
    )
    ids = [plain.pk, contact.pk, seen.pk]
    return list(Patient.objects.select_related("latest__outcome").filter(pk__in=ids))


def test_the_written_out_fields_are_the_declared_fields() -> None:
    rows = patients()
    assert len(rows) == 3
    assert any(p.latest_outcome is not None for p in rows)
    assert any(p.email is None and p.phone is None for p in rows)
    for patient in rows:
        fast = PatientSerializer(patient).data
        assert fast == generic(patient)
        assert list(fast) == PatientSerializer.Meta.fields  # same keys, same order
        assert JSONRenderer().render(fast) == JSONRenderer().render(generic(patient))


def test_a_list_page_renders_the_same_bytes() -> None:
    rows = patients()
    fast = PatientSerializer(rows, many=True).data
    slow = [generic(p) for p in rows]
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)


def test_datetimes_follow_the_active_time_zone_as_drf_does() -> None:
    rows = patients()
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        for patient in rows:
            fast = PatientSerializer(patient).data
            assert fast == generic(patient)
            assert fast["created_at"].endswith("+05:30")


def test_microseconds_and_utc_suffix_match_drf() -> None:
    patient = next(p for p in patients() if p.latest_outcome is not None)
    outcome = PatientSerializer(patient).data["latest_outcome"]
    assert outcome == {
        "code": "critical",
        "label": Outcome.objects.get(pk="critical").label,
        "severity": Outcome.objects.get(pk="critical").severity,
        "occurred_at": "2025-03-30T01:30:05.123456Z",
    }
