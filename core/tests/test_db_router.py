"""The primary/replica router's decisions and the read-your-own-writes marker.

Against a real streaming replica: pgstack/test_read_replica.py (``make pgstack``). Here,
without one, only which alias each read and write is sent to.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from appointments.models import Appointment
from core.db import router
from core.db.router import PrimaryReplicaRouter, note_write, primary, replica_reads, wrote_recently
from core.tests.clients import UserClient
from patients.models import Patient

ROUTER = PrimaryReplicaRouter()


@pytest.fixture
def replica_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``replica`` entry in DATABASES (never connected to by these tests)."""
    entry = {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}
    monkeypatch.setitem(settings.DATABASES, "replica", entry)
    router.forget_replica_down()


def test_without_a_replica_every_read_is_on_the_primary() -> None:
    assert not router.replica_configured()
    assert ROUTER.db_for_read(Patient) == "default"
    assert ROUTER.db_for_write(Patient) == "default"


@pytest.mark.usefixtures("replica_configured")
def test_reads_go_to_the_replica_only_inside_an_opted_in_block() -> None:
    assert ROUTER.db_for_read(Patient) == "default"
    with replica_reads():
        assert ROUTER.db_for_read(Patient) == "replica"
        with primary():  # an access decision, for instance
            assert ROUTER.db_for_read(Appointment) == "default"
        assert ROUTER.db_for_read(Appointment) == "replica"
    assert ROUTER.db_for_read(Patient) == "default"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("replica_configured")
def test_a_read_inside_a_transaction_stays_with_its_writes() -> None:
    with replica_reads(), transaction.atomic():
        assert ROUTER.db_for_read(Patient) == "default"


@pytest.mark.usefixtures("replica_configured")
def test_writes_never_go_to_the_replica_whatever_the_instance() -> None:
    instance = Patient()
    instance._state.db = "replica"
    with replica_reads():
        assert ROUTER.db_for_write(Patient, instance=instance) == "default"


@pytest.mark.usefixtures("replica_configured")
def test_a_replica_found_down_is_left_alone_for_a_while() -> None:
    router.note_replica_down()
    try:
        with replica_reads():
            assert ROUTER.db_for_read(Patient) == "default"
    finally:
        router.forget_replica_down()
    with replica_reads():
        assert ROUTER.db_for_read(Patient) == "replica"


def test_nothing_is_migrated_on_the_replica() -> None:
    assert ROUTER.allow_migrate("replica", "patients") is False
    assert ROUTER.allow_migrate("default", "patients") is None


def test_rows_read_from_either_alias_may_be_related() -> None:
    a, b = Patient(), Appointment()
    a._state.db, b._state.db = "replica", "default"
    assert ROUTER.allow_relation(a, b) is True


@pytest.mark.django_db
@pytest.mark.usefixtures("replica_configured")
def test_a_successful_write_makes_the_writer_sticky(provider_client: UserClient) -> None:
    user = provider_client.user
    assert not wrote_recently(user.pk)
    refused = provider_client.post("/api/v1/patients/", {"first_name": ""}, format="json")
    assert refused.status_code == 400
    assert not wrote_recently(user.pk)  # nothing was written
    provider_client.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/")
    assert not wrote_recently(user.pk)  # a read writes nothing
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1980-02-03"},
        format="json",
    )
    assert created.status_code == 201
    assert wrote_recently(user.pk)


@pytest.mark.django_db
def test_without_a_replica_no_marker_is_written(provider_client: UserClient) -> None:
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1980-02-03"},
        format="json",
    )
    assert created.status_code == 201
    assert not wrote_recently(provider_client.user.pk)


@pytest.mark.usefixtures("replica_configured")
def test_a_zero_window_turns_stickiness_off(settings: Any) -> None:
    settings.DATABASE_REPLICA_STICKY_SECONDS = 0
    note_write(42)
    assert not wrote_recently(42)
    settings.DATABASE_REPLICA_STICKY_SECONDS = 5
    note_write(42)
    assert wrote_recently(42)
