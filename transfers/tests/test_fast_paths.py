"""The importers' fast paths accept exactly the rows the reference path accepts, with the
same result, and the reports of a whole file are identical either way."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import astuple
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from appointments.tests.factories import AppointmentFactory
from core.actors import system_actor
from core.serializers import AwareDateTimeField
from outcomes.models import Outcome
from outcomes.tests.factories import OutcomeFactory
from patients.models import MAX_AGE_YEARS, Patient
from patients.tests.factories import PatientFactory
from transfers import importing
from transfers.formats import ParsedFile
from transfers.importing import ImportOptions, _EmailCheck, _Row

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
OLDEST = TODAY - dt.timedelta(days=int(MAX_AGE_YEARS * 365.25))
NOT_TEXT: list[Any] = [None, 7, 3.5, True, False, [], {"a": 1}]
NAMES: list[Any] = [
    "Ann", " Ann ", "", " ", "Zoë", "x" * 100, " " + "x" * 100, "x" * 101, "a\x00b", "O'Neil",
    "=cmd", "\tTab", *NOT_TEXT,
]  # fmt: skip
DATES: list[Any] = [
    "1980-01-01", " 1980-01-01 ", "1980-02-30", "19800101", "1980-1-1", "", "yesterday",
    TODAY.isoformat(), (TODAY + dt.timedelta(days=1)).isoformat(), OLDEST.isoformat(),
    (OLDEST - dt.timedelta(days=1)).isoformat(), "2999-01-01", "1850-06-01", "0001-01-01",
    "1980-01-01T00:00", *NOT_TEXT,
]  # fmt: skip
GENDERS: list[Any] = [
    "female", "male", "other", "unknown", "", " male ", "Male", "robot", *NOT_TEXT,
]  # fmt: skip
EMAILS: list[Any] = [
    "a@example.org", "A.B@Example.ORG", " a@example.org ", "", "nope", "a@b", "a@localhost",
    "a@[127.0.0.1]", "a@[::1]", "a@[999.1.1.1]", '"quoted local"@example.org', "a..b@example.org",
    "a@-bad.org", "a@exa_mple.org", "a@xn--bcher-kva.example", "a@bücher.example", "@example.org",
    "a@", "a@@example.org", "x" * 64 + "@example.org", "a@" + "b" * 250 + ".org",
    "a b@example.org", "a@example.org.", "a\x00@example.org", *NOT_TEXT,
]  # fmt: skip
PHONES: list[Any] = [
    "+14155552671", "+1 415 555 2671", "(415) 555-2671", "", "12", "+999", "phone",
    "+4930123456", "+44 20 7946 0958", "0" * 33, *NOT_TEXT,
]  # fmt: skip
IDS: list[Any] = [
    "", "SRC-1", "SRC-2", " SRC-3 ", "x" * 64, "x" * 65, "MRN-000001", "MRN-999999", "m" * 17,
    *NOT_TEXT,
]  # fmt: skip
UUIDS: list[Any] = [
    "", str(uuid.UUID(int=1)), str(uuid.UUID(int=2)).upper(), "{" + str(uuid.UUID(int=3)) + "}",
    uuid.UUID(int=4).hex, "urn:uuid:" + str(uuid.UUID(int=5)), "not-a-uuid", *NOT_TEXT,
]  # fmt: skip
COLUMNS = {
    "first_name": NAMES,
    "last_name": NAMES,
    "date_of_birth": DATES,
    "gender": GENDERS,
    "email": EMAILS,
    "phone": PHONES,
    "mrn": IDS,
    "external_id": IDS,
    "id": UUIDS,
}
VALID = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01"}


def _rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows that are mostly valid with one or two odd cells, and some wholly random ones;
    columns are sometimes absent (a JSON object without the key)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        if n % 3 == 0:
            row = {name: rng.choice(values) for name, values in COLUMNS.items()}
        else:
            row = dict(VALID)
            for name in rng.sample(list(COLUMNS), rng.randint(1, 2)):
                row[name] = rng.choice(COLUMNS[name])
        for name in list(row):
            if rng.random() < 0.08:
                del row[name]
        rows.append(row)
    return rows


def _summary(item: importing._PatientRow | None) -> Any:
    if item is None:
        return None
    patient = item.patient
    return (
        tuple(getattr(patient, name) for name in importing.PATIENT_COMPARED),
        astuple(item)[1:],
    )


def test_patient_fast_path_matches_the_reference() -> None:
    email_ok = _EmailCheck()
    accepted = 0
    for number, values in enumerate(_rows(6000, seed=15), start=2):
        reference_row = _Row(number, values)
        reference = importing._patient_from_row(reference_row, today=TODAY, phones={})
        fast = importing._patient_fast(values, today=TODAY, phones={}, email_ok=email_ok)
        if fast is not None:
            accepted += 1
            assert reference_row.errors == [], values
            assert _summary(fast) == _summary(reference), values
    assert accepted > 1000  # the fast path does take the plain rows


def test_the_email_check_is_djangos_validate_email() -> None:

    check = _EmailCheck()
    for value in [v for v in EMAILS if isinstance(v, str)] * 2:  # twice: the domain cache
        try:
            validate_email(value)
            valid = True
        except ValidationError:
            valid = False
        assert check(value) is valid, value


@pytest.mark.parametrize("mode", ["create", "upsert"])
@pytest.mark.parametrize("keep_mrn", [False, True])
def test_a_whole_file_reports_the_same_either_way(
    mode: str, keep_mrn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = PatientFactory.create(email="a@example.org")
    Patient.objects.filter(pk=first.pk).update(mrn="MRN-000001")
    Patient.objects.filter(pk=PatientFactory.create().pk).update(external_id="SRC-1")
    parsed = ParsedFile("json", list(COLUMNS), list(enumerate(_rows(1500, seed=16), start=2)))
    options = ImportOptions(dry_run=True, mode=mode, keep_mrn=keep_mrn)

    fast = importing.import_patients(parsed, options).as_dict()
    monkeypatch.setattr(importing, "_patient_fast", lambda *a, **k: None)
    reference = importing.import_patients(parsed, options).as_dict()

    assert fast == reference
    assert fast["error_count"] > 100
    assert fast["created"] + fast["updated"] + fast["unchanged"] > 100


# -------------------------------------------------------------------- interactions

NOW = timezone.now()
WHEN: list[Any] = [
    "2024-05-01T10:00:00Z", "2024-05-01T10:00:00+05:30", " 2024-05-01T10:00:00-08:00 ",
    "2024-05-01 10:00:00+00:00", "2024-05-01t10:00:00z", "2024-05-01T10:00:00.123456+01:00",
    "2024-05-01T10:00:00,5Z", "2024-05-01T10:00Z", "2024-05-01T10:00:00", "2024-05-01",
    "2024-02-30T10:00:00Z", "2024-05-01T25:00:00Z", "yesterday", "", "1901-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2024-05-01T10:00:00+24:00",
    (NOW + dt.timedelta(minutes=4)).isoformat(), (NOW + dt.timedelta(minutes=6)).isoformat(),
    (NOW + dt.timedelta(days=3)).isoformat(), "2024-05-01T10:00:00+05", *NOT_TEXT,
]  # fmt: skip
OUTCOMES: list[Any] = ["healthy", "monitor", " critical ", "retired", "unknown-code", "", *NOT_TEXT]
STATUSES: list[Any] = ["", "current", " current ", "amended", "entered_in_error", *NOT_TEXT]
NOTES: list[Any] = ["", "Follow-up", " padded ", "x" * 20_001, "nul\x00", "=1+1", *NOT_TEXT]


def _interaction_columns(ids: list[str], mrns: list[str], doctor: str, visit: str) -> dict:
    some_uuid = str(uuid.UUID(int=9))
    return {
        "patient_id": [*ids, " " + ids[0], "", "not-a-uuid", some_uuid, *NOT_TEXT],
        "mrn": [*mrns, mrns[0].lower(), "", "MRN-999999", "m" * 65, *NOT_TEXT],
        "external_id": ["EXT-1", "", "EXT-404", "e" * 65, *NOT_TEXT],
        "outcome": OUTCOMES,
        "occurred_at": WHEN,
        "notes": NOTES,
        "doctor_id": ["", doctor, some_uuid, "bad", *NOT_TEXT],
        "appointment_id": ["", visit, some_uuid, "bad", *NOT_TEXT],
        "id": ["", str(uuid.uuid4()), some_uuid, "bad", *NOT_TEXT],
        "status": STATUSES,
    }


def _interaction_rows(columns: dict, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    valid = {"patient_id": columns["patient_id"][0], "outcome": "healthy"}
    valid["occurred_at"] = "2024-05-01T10:00:00Z"
    rows = []
    for n in range(count):
        if n % 3 == 0:
            row = {name: rng.choice(values) for name, values in columns.items()}
        else:
            row = dict(valid)
            for name in rng.sample(list(columns), rng.randint(1, 2)):
                row[name] = rng.choice(columns[name])
        for name in list(row):
            if rng.random() < 0.1:
                del row[name]
        rows.append(row)
    return rows


@pytest.fixture
def interaction_columns() -> dict:
    OutcomeFactory.create(code="retired", is_active=False)
    born = [dt.date(1950, 1, 1), dt.date(2024, 5, 1), dt.date(2024, 5, 2)]
    patients = [PatientFactory.create(date_of_birth=day) for day in born]
    Patient.objects.filter(pk=patients[0].pk).update(external_id="EXT-1")
    visit = AppointmentFactory.create(
        patient=patients[1], start_time=timezone.now() - dt.timedelta(days=1)
    )
    return _interaction_columns(
        [str(p.pk) for p in patients],
        [p.mrn for p in patients],
        str(visit.doctor_id),
        str(visit.pk),
    )


def test_interaction_fast_path_matches_the_reference(interaction_columns: dict) -> None:

    outcomes = {o.code: o for o in Outcome.objects.all()}
    when, zone = AwareDateTimeField(), timezone.get_current_timezone()
    accepted = 0
    for number, values in enumerate(_interaction_rows(interaction_columns, 6000, 17), start=2):
        reference_row = _Row(number, values)
        reference = importing._interaction_from_row(
            reference_row, outcomes=outcomes, now=NOW, when=when
        )
        fast = importing._interaction_fast(values, outcomes=outcomes, now=NOW, zone=zone)
        if fast is not None:
            accepted += 1
            assert reference_row.errors == [], values
            assert reference is not None
            assert astuple(fast) == astuple(reference), values
            assert fast.occurred_at.tzinfo == reference.occurred_at.tzinfo
    assert accepted > 1000


def test_a_whole_interactions_file_reports_the_same_either_way(
    interaction_columns: dict, monkeypatch: pytest.MonkeyPatch
) -> None:

    rows = _interaction_rows(interaction_columns, 1500, seed=18)
    parsed = ParsedFile("json", list(interaction_columns), list(enumerate(rows, start=2)))
    options = ImportOptions(dry_run=True)

    fast = importing.import_interactions(parsed, options, actor=system_actor()).as_dict()
    monkeypatch.setattr(importing, "_interaction_fast", lambda *a, **k: None)
    reference = importing.import_interactions(parsed, options, actor=system_actor()).as_dict()

    assert fast == reference
    assert fast["error_count"] > 100
    assert fast["created"] > 100
