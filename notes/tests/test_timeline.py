"""The notes source of the patient timeline, called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notes.services import note_retract
from notes.tests.factories import make_note, make_patient, provider_user
from notes.timeline import fetch_note_items
from patients.models import Patient
from patients.timeline import TimelineQuery, timeline_types

pytestmark = pytest.mark.django_db


def query(**kwargs: object) -> TimelineQuery:
    values: dict[str, object] = {"before": None, "start": None, "end": None, "limit": 50}
    values.update(kwargs)
    return TimelineQuery(**values)  # type: ignore[arg-type]


def test_notes_source_is_registered() -> None:
    assert "note" in timeline_types()


def test_items_newest_first_with_title_and_data(patient: Patient) -> None:
    now = timezone.now()
    old = make_note(patient=patient, taken_at=now - timedelta(days=2), note_type="admission")
    new = make_note(patient=patient, taken_at=now - timedelta(hours=1), note_type="progress")
    make_note(patient=make_patient())
    note_retract(note=old, actor=provider_user(), reason="Wrong patient.")
    items = fetch_note_items(patient, query())
    assert [i.id for i in items] == [new.pk, old.pk]
    assert items[0].type == "note"
    assert items[0].at == new.taken_at
    assert items[0].title == "Progress note"
    assert items[0].data == {
        "note_type": "progress",
        "status": "draft",
        "extraction_status": "done",
        "parent_id": None,
    }
    assert items[1].title == "Admission note (entered in error)"
    assert items[1].data["status"] == "entered_in_error"


def test_keyset_paging_window_and_one_query(patient: Patient) -> None:
    base = timezone.now() - timedelta(days=1)
    same_time = [make_note(patient=patient, taken_at=base) for _ in range(3)]
    earlier = make_note(patient=patient, taken_at=base - timedelta(hours=5))
    ordered = [*sorted(same_time, key=lambda n: n.pk, reverse=True), earlier]

    with CaptureQueriesContext(connection) as context:
        first = fetch_note_items(patient, query(limit=2))
    assert len(context.captured_queries) == 1
    assert [i.id for i in first] == [n.pk for n in ordered[:2]]
    last = first[-1]
    rest = fetch_note_items(patient, query(before=(last.at, last.id), limit=10))
    assert [i.id for i in rest] == [n.pk for n in ordered[2:]]

    window = fetch_note_items(
        patient, query(start=base - timedelta(hours=6), end=base - timedelta(hours=1))
    )
    assert [i.id for i in window] == [earlier.pk]
    assert fetch_note_items(patient, query(limit=0)) == []
