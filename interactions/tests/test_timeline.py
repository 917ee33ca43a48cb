"""The patient timeline: appointments and interactions merged, newest first, by cursor."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.tests.factories import AppointmentFactory, PatientFactory
from core.actors import system_actor
from core.permissions import Role
from interactions.services import interaction_amend, interaction_record, interaction_retract
from interactions.tests.factories import InteractionFactory
from outcomes.models import Outcome
from patients.timeline import TimelineItem, decode_cursor, encode_cursor, timeline_types

pytestmark = pytest.mark.django_db


def url(patient):
    return f"/api/v1/patients/{patient.pk}/timeline/"


def fields_of(response):
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.fixture
def base():
    return timezone.now().replace(microsecond=0) - timedelta(days=30)


@pytest.fixture
def patient():
    return PatientFactory.create()


@pytest.fixture
def history(patient, base):
    """Eight items, interleaved, with a tie: an appointment and an interaction at the
    same instant. Returns [(type, id)] in expected (newest-first) order."""
    items = []
    for hours in (0, 5, 10, 20):
        a = AppointmentFactory.create(patient=patient, start_time=base + timedelta(hours=hours))
        items.append((base + timedelta(hours=hours), a.pk, "appointment"))
    for hours in (2, 10, 15, 30):
        i = InteractionFactory.create(patient=patient, occurred_at=base + timedelta(hours=hours))
        items.append((base + timedelta(hours=hours), i.pk, "interaction"))
    AppointmentFactory.create(start_time=base + timedelta(hours=12))  # another patient
    InteractionFactory.create(occurred_at=base + timedelta(hours=12))
    items.sort(reverse=True)
    return [(kind, str(pk)) for _, pk, kind in items]


def walk(client, first_url, params=None):
    """Follow ``next`` to the end; returns the pages as lists of (type, id)."""
    pages = []
    response = client.get(first_url, params or {})
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([(r["type"], r["id"]) for r in body["results"]])
        if body["next"] is None:
            return pages
        response = client.get(body["next"])


def test_merges_every_type_newest_first_with_id_breaking_ties(viewer_client, patient, history):
    response = viewer_client.get(url(patient))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [(r["type"], r["id"]) for r in body["results"]] == history
    tied = [r for r in body["results"] if r["at"] == body["results"][3]["at"]]
    assert len(tied) == 2
    assert tied[0]["id"] > tied[1]["id"]
    first_appointment = next(r for r in body["results"] if r["type"] == "appointment")
    assert first_appointment["title"].startswith("Appointment with Dr. Test Doctor")
    assert set(first_appointment["data"]) == {
        "status",
        "end_time",
        "duration_minutes",
        "doctor_id",
        "doctor_name",
        "reason",
    }
    interaction = next(r for r in body["results"] if r["type"] == "interaction")
    assert interaction["title"] == "Interaction: Healthy"
    assert interaction["data"]["outcome"] == "healthy"


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 8])
def test_cursor_pages_cover_every_item_once_in_order(viewer_client, patient, history, page_size):
    pages = walk(viewer_client, url(patient), {"page_size": page_size})
    assert [item for page in pages for item in page] == history
    assert all(len(page) == page_size for page in pages[:-1])
    assert len(pages) == -(-len(history) // page_size)


def test_paging_is_stable_under_inserts_between_fetches(viewer_client, patient, history, base):
    first = viewer_client.get(url(patient), {"page_size": 3}).json()
    seen = [(r["type"], r["id"]) for r in first["results"]]
    # Meanwhile: a new interaction (newer than everything seen), an appointment booked
    # into the visited stretch, and one into the stretch still to come.
    newest = interaction_record(
        actor=system_actor(), patient=patient, outcome=Outcome.objects.get(pk="monitor")
    )
    visited = AppointmentFactory.create(patient=patient, start_time=base + timedelta(hours=25))
    unvisited = AppointmentFactory.create(patient=patient, start_time=base + timedelta(hours=1))
    rest = walk(viewer_client, first["next"])
    walked = seen + [item for page in rest for item in page]
    assert len(walked) == len(set(walked))
    expected = [*history[:7], ("appointment", str(unvisited.pk)), history[7]]
    assert walked == expected
    ids = {pk for _, pk in walked}
    assert str(newest.pk) not in ids
    assert str(visited.pk) not in ids
    # A fresh walk sees everything.
    fresh = [i for page in walk(viewer_client, url(patient), {"page_size": 4}) for i in page]
    assert len(fresh) == len(history) + 3


def test_type_and_date_filters(viewer_client, patient, history, base):
    only = walk(viewer_client, url(patient), {"type": "interaction", "page_size": 3})
    assert [i for page in only for i in page] == [i for i in history if i[0] == "interaction"]
    both = viewer_client.get(url(patient), {"type": "appointment, interaction"}).json()
    assert len(both["results"]) == len(history)
    window = viewer_client.get(
        url(patient),
        {
            "start": (base + timedelta(hours=5)).isoformat(),
            "end": (base + timedelta(hours=15)).isoformat(),
        },
    ).json()["results"]
    hours = sorted(
        (datetime.fromisoformat(r["at"].replace("Z", "+00:00")) - base) / timedelta(hours=1)
        for r in window
    )
    assert hours == [5, 10, 10]


def test_next_link_keeps_the_filters(viewer_client, patient, history):
    body = viewer_client.get(url(patient), {"type": "appointment", "page_size": 2}).json()
    assert "type=appointment" in body["next"]
    assert "page_size=2" in body["next"]
    rest = viewer_client.get(body["next"]).json()["results"]
    assert {r["type"] for r in rest} == {"appointment"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "notes"}, "type"),
        ({"type": "appointment,bogus"}, "type"),
        ({"type": ","}, "type"),
        ({"start": "2026-01-01T10:00:00"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "MjAyNnxpbnRlcmFjdGlvbnx4"}, "cursor"),
        (
            {
                "cursor": encode_cursor(
                    TimelineItem(
                        type="interaction",
                        id=uuid.UUID(int=1),
                        at=datetime.fromisoformat("9999-12-31T23:59:59-05:00"),
                        title="",
                        data={},
                    )
                )
            },
            "cursor",
        ),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
    ],
)
def test_bad_parameters_are_400(viewer_client, patient, params, field):
    response = viewer_client.get(url(patient), params)
    assert response.status_code == 400
    assert field in {f for f, _ in fields_of(response)}


def test_query_count_is_constant_whatever_the_page_size(viewer_client, patient, history):
    counts = {}
    for size in (2, 50):
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get(url(patient), {"page_size": size})
        assert response.status_code == 200
        counts[size] = len(queries)
    assert counts[2] == counts[50]
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(url(patient), {"type": "interaction"})
    assert len(queries) == counts[2] - (len(timeline_types()) - 1)  # one query per source
    print(f"timeline: {counts[2]} queries per page")  # noqa: T201


def test_only_current_interactions_appear(viewer_client, patient):
    healthy = Outcome.objects.get(pk="healthy")
    original = interaction_record(
        actor=system_actor(),
        patient=patient,
        outcome=healthy,
        occurred_at=timezone.now() - timedelta(days=2),
    )
    amendment = interaction_amend(actor=system_actor(), interaction=original, notes="Corrected")
    retracted = interaction_record(actor=system_actor(), patient=patient, outcome=healthy)
    interaction_retract(actor=system_actor(), interaction=retracted, reason="Duplicate")
    results = viewer_client.get(url(patient)).json()["results"]
    assert [(r["id"], r["data"]["amends"]) for r in results] == [
        (str(amendment.pk), str(original.pk))
    ]


def test_unknown_patient_is_404_and_roles(client_for, api_client, patient):
    viewer = client_for(Role.VIEWER)
    assert viewer.get(f"/api/v1/patients/{uuid.uuid4()}/timeline/").status_code == 404
    assert viewer.get(url(patient)).json() == {"next": None, "results": []}
    assert api_client.get(url(patient)).status_code == 401


def test_cursor_round_trip_and_registry():
    assert {"appointment", "interaction", "note"} <= set(timeline_types())
    item = TimelineItem(type="interaction", id=uuid.uuid4(), at=timezone.now(), title="x", data={})
    assert decode_cursor(encode_cursor(item)) == (item.at, item.id)
