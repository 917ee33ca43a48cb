from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.actors import system_actor
from core.errors import Conflict
from doctors import demo as doctors_demo
from interactions import demo
from interactions.models import Interaction, InteractionStatus
from interactions.services import interaction_amend, interaction_record, interaction_retract
from outcomes.models import Outcome
from patients import demo as patients_demo
from patients.models import Patient


def test_demo_seed_is_idempotent_and_keeps_latest_outcome(db):
    now = timezone.now()
    assert demo.seed(now=now).startswith("0 demo interactions")  # no demo patients yet
    patients_demo.seed(now=now)
    doctors_demo.seed(now=now)
    demo.seed(now=now)
    rows = set(Interaction.objects.values_list("pk", "status", "outcome_id"))
    assert Interaction.objects.filter(status=InteractionStatus.AMENDED).count() == 1
    assert Interaction.objects.filter(status=InteractionStatus.ENTERED_IN_ERROR).count() == 1
    latest = dict(Patient.objects.values_list("pk", "latest__outcome"))
    assert all(latest.values())
    # A second run (the patients fixture reloads first) changes nothing.
    patients_demo.seed(now=now + timedelta(minutes=1))
    assert demo.seed(now=now + timedelta(minutes=1)).startswith("0 demo interactions created")
    assert set(Interaction.objects.values_list("pk", "status", "outcome_id")) == rows
    assert dict(Patient.objects.values_list("pk", "latest__outcome")) == latest


def test_demo_skips_missing_patients_quietly(db):
    call_command("loaddata", "demo_patients", verbosity=0)
    Patient.objects.filter(pk=demo.demo_patient_id(5)).delete()
    Patient.objects.filter(pk=demo.demo_patient_id(1)).delete()
    assert "demo interactions created" in demo.seed(now=timezone.now())
    assert not Interaction.objects.filter(patient_id=demo.demo_patient_id(5)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["amend", "retract"])
def test_concurrent_corrections_cannot_both_succeed(second):
    patient = Patient.objects.create(
        mrn="MRN-C00001", first_name="Con", last_name="Current", date_of_birth="1980-01-01"
    )
    target = interaction_record(
        actor=system_actor(), patient=patient, outcome=Outcome.objects.get(pk="healthy")
    )
    barrier = threading.Barrier(2)
    results: list[str] = []

    def correct(kind: str) -> None:
        try:
            barrier.wait()
            if kind == "amend":
                interaction_amend(
                    actor=system_actor(), interaction=target, notes=f"by {threading.get_ident()}"
                )
            else:
                interaction_retract(actor=system_actor(), interaction=target, reason="Duplicate")
            results.append("ok")
        except Conflict as exc:
            results.append(exc.error_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=correct, args=(k,)) for k in ("amend", second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not_current", "ok"]
    target.refresh_from_db()
    amendments = Interaction.objects.filter(amends=target).count()
    if target.status == InteractionStatus.AMENDED:
        assert amendments == 1
        assert Interaction.objects.current().count() == 1
    else:
        assert target.status == InteractionStatus.ENTERED_IN_ERROR
        assert amendments == 0
        assert not Interaction.objects.current().exists()
