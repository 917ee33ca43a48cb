"""PostgreSQL: a patient or interaction import that validates and writes at once (the
writer thread) gives the report and the rows of the two-pass path, and keeps all or
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from core.actors import system_actor
from interactions.models import Interaction
from patients.models import LatestOutcome, MrnSequence, Patient
from patients.tests.factories import PatientFactory
from transfers import importing
from transfers.formats import ParsedFile
from transfers.importing import ImportOptions, ImportReport
from transfers.tests.test_fast_paths import (  # noqa: F401 (a fixture)
    _interaction_rows,
    _rows,
    interaction_columns,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STORED = (
    "mrn",
    "external_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "search_document",
)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many batches from a small file: duplicates and errors cross batch boundaries."""
    monkeypatch.setattr(importing, "PIPELINE_BATCH", 97)
    monkeypatch.setattr(importing, "PIPELINE_FIRST_BATCH", 13)


def _file(count: int, seed: int) -> ParsedFile:
    rows = _rows(count, seed)
    for row in rows:
        row.pop("mrn", None)  # create mode: the file's MRNs are the keep_mrn tests' topic
        row.pop("id", None)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return ParsedFile("json", columns, list(enumerate(rows, start=2)))


def _stored(existing: set[Any]) -> list[tuple[Any, ...]]:
    imported = Patient.objects.exclude(pk__in=existing).order_by("mrn")
    return list(imported.values_list(*STORED))


def _both_ways(parsed: ParsedFile, options: ImportOptions) -> tuple[Any, Any]:
    """(report, rows, MRN counter) of the pipelined run, then of the two-pass run (inside
    a transaction, where the pipeline is not used) from the same starting point."""
    existing = set(Patient.objects.values_list("pk", flat=True))
    counter = MrnSequence.objects.get(pk=1).last_value
    assert importing._pipelined(options)
    pipelined = importing.import_patients(parsed, options)
    first = (pipelined.as_dict(), _stored(existing), MrnSequence.objects.get(pk=1).last_value)
    Patient.objects.exclude(pk__in=existing).delete()
    MrnSequence.objects.filter(pk=1).update(last_value=counter)
    with transaction.atomic():
        assert not importing._pipelined(options)
        two_pass = importing.import_patients(parsed, options)
    second = (two_pass.as_dict(), _stored(existing), MrnSequence.objects.get(pk=1).last_value)
    return first, second


def _existing_patients() -> None:
    taken = PatientFactory.create(email="a@example.org")
    Patient.objects.filter(pk=taken.pk).update(external_id="SRC-1")


def test_skip_mode_writes_and_reports_what_the_two_pass_path_does() -> None:
    _existing_patients()
    pipelined, two_pass = _both_ways(_file(1200, seed=21), ImportOptions(on_error="skip"))

    assert pipelined == two_pass
    report, rows, _ = pipelined
    assert report["error_count"] > 100
    assert report["created"] == len(rows) > 100


def test_all_or_nothing_writes_nothing_when_a_later_batch_has_a_bad_row() -> None:
    _existing_patients()
    counter = MrnSequence.objects.get(pk=1).last_value
    good = [
        {"first_name": "A", "last_name": f"N{n}", "date_of_birth": "1980-01-01"} for n in range(500)
    ]
    good[450]["email"] = "a@example.org"  # taken: found in the fifth batch
    parsed = ParsedFile("json", ["first_name", "last_name", "date_of_birth", "email"], [])
    parsed.rows = list(enumerate(good, start=2))

    pipelined, two_pass = _both_ways(parsed, ImportOptions())

    assert pipelined == two_pass
    report, rows, after = pipelined
    assert (report["written"], report["created"], rows, after) == (False, 0, [], counter)
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(452, "duplicate_email")]


def _valid_file(count: int) -> ParsedFile:
    rows = [
        {
            "first_name": "Ann",
            "last_name": f"Lee{n}",
            "date_of_birth": "1980-01-01",
            "email": f"ann.{n}@example.org",
            "external_id": f"SRC-{n}",
        }
        for n in range(count)
    ]
    return ParsedFile("json", list(rows[0]), list(enumerate(rows, start=2)))


def test_a_valid_file_commits_with_what_finish_records() -> None:
    parsed = _valid_file(600)
    seen: list[tuple[int, bool]] = []

    def finish(report: ImportReport) -> None:
        # Inside the writer's transaction: the rows are there, not yet committed.
        seen.append((Patient.objects.count(), transaction.get_connection().in_atomic_block))

    report = importing.import_patients(parsed, ImportOptions(), finish=finish)

    assert (report.written, report.created, report.errors) == (True, 600, [])
    assert seen == [(600, True)]
    assert Patient.objects.count() == 600
    assert sorted(Patient.objects.values_list("mrn", flat=True))[-1] == "MRN-000600"


def test_a_failing_finish_leaves_nothing_written() -> None:
    counter = MrnSequence.objects.get(pk=1).last_value
    parsed = _valid_file(300)

    def finish(report: ImportReport) -> None:
        raise RuntimeError("the job's final state could not be saved")

    with pytest.raises(RuntimeError):
        importing.import_patients(parsed, ImportOptions(), finish=finish)

    assert Patient.objects.count() == 0
    assert MrnSequence.objects.get(pk=1).last_value == counter


def test_the_copy_types_are_the_tables() -> None:
    """The binary COPY sends each value as its column's type: a drift (a column turned
    into another type) must fail here, not as garbage or an error at import time."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = %s",
            [Patient._meta.db_table],
        )
        types = dict(cursor.fetchall())
    assert len(importing._PATIENT_COPY_TYPES) == len(importing._PATIENT_COPY_COLUMNS)
    expected = {"varchar": "varchar", "text": "text", "uuid": "uuid", "date": "date"}
    expected["timestamptz"] = "timestamptz"
    for column, sent in zip(
        importing._PATIENT_COPY_COLUMNS, importing._PATIENT_COPY_TYPES, strict=True
    ):
        assert types[column] == expected[sent], column


@pytest.mark.parametrize("pipelined", [True, False])
def test_odd_text_is_stored_as_given(pipelined: bool) -> None:
    names = ["Tab\tin", "Back\\slash", "New\nline", "Ünïcødé", "Quo'te", '"Dq"', "\\N", "Ø 李"]
    rows = [
        {"first_name": name, "last_name": "Lee", "date_of_birth": "1980-01-01", "external_id": name}
        for name in names
    ]
    parsed = ParsedFile("json", list(rows[0]), list(enumerate(rows, start=2)))
    if pipelined:
        report = importing.import_patients(parsed, ImportOptions())
    else:
        with transaction.atomic():
            report = importing.import_patients(parsed, ImportOptions())
    assert (report.written, report.created) == (True, len(names))
    stored = Patient.objects.order_by("mrn").values_list(
        "first_name", "external_id", "search_document"
    )
    assert list(stored) == [(n, n, f"{n} lee mrn-{i:06d}".lower()) for i, n in enumerate(names, 1)]


def test_batches_start_small_and_cover_every_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "PIPELINE_BATCH", 5000)
    monkeypatch.setattr(importing, "PIPELINE_FIRST_BATCH", 500)
    bounds = list(importing._batch_bounds(12_345))
    assert bounds[:3] == [(0, 500), (500, 5500), (5500, 10500)]
    assert bounds[-1] == (10500, 12345)
    assert [b for _, b in bounds[:-1]] == [a for a, _ in bounds[1:]]
    assert list(importing._batch_bounds(0)) == []
    assert list(importing._batch_bounds(7)) == [(0, 7)]


def test_progress_is_reported_after_each_batch() -> None:
    seen: list[int] = []
    importing.import_patients(_valid_file(250), ImportOptions(), progress=seen.append)
    assert seen == [13, 110, 207, 250]


# -------------------------------------------------------------------- interactions

INTERACTION_STORED = ("patient_id", "doctor_id", "appointment_id", "outcome_id", "notes")


def _interactions_both_ways(parsed: ParsedFile, options: ImportOptions) -> tuple[Any, Any]:
    """(report, rows, latest outcomes) of the pipelined run, then of the two-pass run
    inside a transaction, from the same starting point."""

    def state(report: ImportReport) -> tuple[Any, ...]:
        stored = Interaction.objects.order_by(*INTERACTION_STORED, "occurred_at")
        latest = LatestOutcome.objects.order_by("patient_id")
        return (
            report.as_dict(),
            list(stored.values_list(*INTERACTION_STORED, "occurred_at")),
            list(latest.values_list("patient_id", "outcome_id", "occurred_at")),
        )

    assert importing._pipelined(options)
    first = state(importing.import_interactions(parsed, options, actor=system_actor()))
    Interaction.objects.all().delete()
    LatestOutcome.objects.all().delete()
    with transaction.atomic():
        assert not importing._pipelined(options)
        second = state(importing.import_interactions(parsed, options, actor=system_actor()))
    return first, second


def test_interactions_skip_mode_writes_and_reports_what_the_two_pass_path_does(
    interaction_columns: dict,  # noqa: F811 (the fixture imported above)
) -> None:
    rows = _interaction_rows(interaction_columns, 1500, seed=18)
    parsed = ParsedFile("json", list(interaction_columns), list(enumerate(rows, start=2)))

    pipelined, two_pass = _interactions_both_ways(parsed, ImportOptions(on_error="skip"))

    assert pipelined == two_pass
    report, stored, latest = pipelined
    assert report["error_count"] > 100
    assert report["created"] == len(stored) > 100
    assert len(latest) >= 2  # the latest outcome of every patient written to
    codes = {e["code"] for e in report["errors"]}
    assert "duplicate_in_file" in codes  # the same id in two batches is still caught


def _visits(count: int) -> ParsedFile:
    patients = [PatientFactory.create() for _ in range(3)]
    rows = [
        {
            "patient_id": str(patients[n % 3].pk),
            "outcome": ("healthy", "monitor", "critical")[n % 3 if n < 400 else 1],
            "occurred_at": f"2024-05-01T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
        }
        for n in range(count)
    ]
    return ParsedFile("json", list(rows[0]), list(enumerate(rows, start=2)))


def test_an_interaction_file_with_a_bad_row_in_a_later_batch_writes_nothing() -> None:
    parsed = _visits(500)
    parsed.rows[450][1]["outcome"] = "no-such-outcome"

    pipelined, two_pass = _interactions_both_ways(parsed, ImportOptions())

    assert pipelined == two_pass
    report, stored, latest = pipelined
    assert (report["written"], report["created"], stored, latest) == (False, 0, [], [])
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(452, "outcome")]


def test_a_valid_interaction_file_commits_with_what_finish_records() -> None:
    parsed = _visits(600)
    seen: list[tuple[int, int, bool]] = []

    def finish(report: ImportReport) -> None:
        # Inside the writer's transaction: rows and latest outcomes there, not committed.
        in_atomic = transaction.get_connection().in_atomic_block
        seen.append((Interaction.objects.count(), LatestOutcome.objects.count(), in_atomic))

    report = importing.import_interactions(
        parsed, ImportOptions(), actor=system_actor(), finish=finish
    )

    assert (report.written, report.created, report.errors) == (True, 600, [])
    assert seen == [(600, 3, True)]
    # The newest entry of each patient: rows 597, 598, 599 (all "monitor" after row 400).
    assert set(LatestOutcome.objects.values_list("outcome_id", flat=True)) == {"monitor"}
    assert {lo.occurred_at.minute for lo in LatestOutcome.objects.all()} == {57, 58, 59}


def test_a_failing_finish_leaves_no_interaction_written() -> None:
    parsed = _visits(300)

    def finish(report: ImportReport) -> None:
        raise RuntimeError("the job's final state could not be saved")

    with pytest.raises(RuntimeError):
        importing.import_interactions(parsed, ImportOptions(), actor=system_actor(), finish=finish)

    assert (Interaction.objects.count(), LatestOutcome.objects.count()) == (0, 0)
