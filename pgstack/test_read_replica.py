"""List, search and timeline reads come from a real streaming replica; the rest does not.

The standby's replay is paused while a row is written on the primary, so the replica
lacks it: a read that shows the row came from the primary, one that does not came from
the replica (and ``pg_is_in_recovery()`` on the replica connection says it is the
standby).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.tests.factories import AppointmentFactory
from core.db import router
from core.permissions import Role
from core.tests.clients import UserClient
from patients.tests.factories import PatientFactory
from pgstack.conftest import Stack

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
LIST = "/api/v1/patients/"


@pytest.fixture(autouse=True)
def _replica_up(stack: Stack) -> Iterator[None]:
    """Each test starts with the standby caught up and the process trusting it again."""
    router.forget_replica_down()
    stack.standby.catch_up()
    yield
    router.forget_replica_down()


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.django_db(databases=["default", "replica"])  # writes nothing: no flush after
def test_the_replica_alias_is_the_standby() -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (False,)


def test_list_and_search_read_the_replica_and_by_id_reads_the_primary(
    stack: Stack, viewer_client: UserClient
) -> None:
    old = PatientFactory.create(last_name="Harrowgate")
    stack.standby.catch_up()
    with stack.standby.replay_paused():
        new = PatientFactory.create(last_name="Quimbleton")
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            listed = ids(viewer_client.get(LIST))
        assert str(old.pk) in listed
        assert str(new.pk) not in listed  # the replica has not replayed it
        assert on_replica.captured_queries, "the list sent no query to the replica"
        # Trigram search on the replica: a misspelt name finds the replicated patient.
        assert ids(viewer_client.get(LIST, {"search": "Harowgaet"})) == {str(old.pk)}
        assert ids(viewer_client.get(LIST, {"search": "Quimbleton"})) == set()
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            by_id = viewer_client.get(f"{LIST}{new.pk}/")
        assert by_id.status_code == 200  # the primary has it
        assert not on_replica.captured_queries
    # Replay resumed and caught up: the list shows it too.
    assert str(new.pk) in ids(viewer_client.get(LIST))


def test_timeline_and_appointment_lists_read_the_replica(
    stack: Stack, provider_client: UserClient
) -> None:
    patient = PatientFactory.create()
    start = timezone.now() - timedelta(days=3)
    stack.standby.catch_up()
    with stack.standby.replay_paused():
        AppointmentFactory.create(patient=patient, start_time=start)
        timeline = provider_client.get(f"{LIST}{patient.pk}/timeline/")
        assert timeline.status_code == 200, timeline.content
        assert timeline.json()["results"] == []
        appointments = provider_client.get("/api/v1/appointments/", {"patient_id": str(patient.pk)})
        assert appointments.json()["count"] == 0
    timeline = provider_client.get(f"{LIST}{patient.pk}/timeline/")
    assert [item["type"] for item in timeline.json()["results"]] == ["appointment"]


def test_a_client_that_just_wrote_reads_its_write_from_the_primary(
    stack: Stack, client_for: Callable[[Role], UserClient], settings: Any
) -> None:
    settings.DATABASE_REPLICA_STICKY_SECONDS = 60
    writer, other = client_for(Role.PROVIDER), client_for(Role.VIEWER)
    with stack.standby.replay_paused():
        created = writer.post(
            LIST,
            {"first_name": "Ada", "last_name": "Written", "date_of_birth": "1980-02-03"},
            format="json",
        )
        assert created.status_code == 201, created.content
        new_id = created.json()["id"]
        assert new_id in ids(writer.get(LIST))  # sticky: the writer reads the primary
        assert new_id not in ids(other.get(LIST))  # everyone else: the lagging replica


def test_without_a_sticky_window_the_writer_reads_the_replica_at_once(
    stack: Stack, provider_client: UserClient, settings: Any
) -> None:
    settings.DATABASE_REPLICA_STICKY_SECONDS = 0
    with stack.standby.replay_paused():
        created = provider_client.post(
            LIST,
            {"first_name": "Bo", "last_name": "Lagging", "date_of_birth": "1980-02-03"},
            format="json",
        )
        assert created.status_code == 201, created.content
        assert created.json()["id"] not in ids(provider_client.get(LIST))


def test_a_stopped_replica_falls_back_to_the_primary(
    stack: Stack, viewer_client: UserClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert ids(viewer_client.get(LIST)) == set()  # the pool holds a replica connection now
    stack.standby.stop()
    try:
        patient = PatientFactory.create()
        # The pooled connection to the stopped standby fails; the view runs again on the
        # primary and answers 200 with the fresh row, never 503.
        with caplog.at_level("WARNING", logger="core.db.router"):
            assert ids(viewer_client.get(LIST)) == {str(patient.pk)}
        assert "read replica unreachable" in caplog.text
        assert not router.replica_available()
        # For REPLICA_RETRY_SECONDS the replica is not even tried: no second failure.
        caplog.clear()
        with caplog.at_level("WARNING", logger="core.db.router"):
            found = viewer_client.get(LIST, {"search": patient.last_name})
        assert ids(found) == {str(patient.pk)}
        assert "read replica unreachable" not in caplog.text
    finally:
        stack.standby.start()
        connections["replica"].close_pool()  # type: ignore[attr-defined]  # died with the server
