"""POST /api/v1/patients/import/: formats, options, validation, duplicates, upsert."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from patients.models import MrnSequence, Patient
from patients.tests.factories import PatientFactory
from transfers.tests.conftest import Upload

pytestmark = pytest.mark.django_db

CSV = (
    "first_name,last_name,date_of_birth,gender,email,phone\n"
    "Ada,Lovelace,1815-12-10,female,ada@example.org,+14155552671\n"
    "Alan,Turing,1912-06-23,male,,\n"
)
ROWS: list[dict[str, Any]] = [
    {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1815-12-10",
        "gender": "female",
        "email": "ada@example.org",
        "phone": "+14155552671",
    },
    {"first_name": "Alan", "last_name": "Turing", "date_of_birth": "1912-06-23", "gender": "male"},
]


def _sequence() -> int:
    return MrnSequence.objects.get(pk=1).last_value


def _birth_ok() -> None:
    """1815 is more than 130 years ago: the model's rule refuses it (checked below)."""


@pytest.fixture
def valid_csv() -> str:
    return CSV.replace("1815-12-10", "1955-12-10")


@pytest.fixture
def valid_rows() -> list[dict[str, Any]]:
    rows = [dict(r) for r in ROWS]
    rows[0]["date_of_birth"] = "1955-12-10"
    rows[1]["date_of_birth"] = "1962-06-23"
    return rows


def _as(fmt: str, rows: list[dict[str, Any]]) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "ndjson":
        return "\n".join(json.dumps(r) for r in rows) + "\n"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_every_format_creates_patients_as_the_api_would(
    fmt: str, import_patients: Upload, valid_rows: list[dict[str, Any]], admin_api: APIClient
) -> None:
    before = _sequence()

    response = import_patients(_as(fmt, valid_rows), name="anything.txt")

    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["format"], report["created"], report["errors"]) == (fmt, 2, [])
    assert report["written"] is True
    ada = Patient.objects.get(last_name="Lovelace")
    assert ada.mrn == f"MRN-{before + 1:06d}"
    assert Patient.objects.get(last_name="Turing").mrn == f"MRN-{before + 2:06d}"
    assert _sequence() == before + 2
    assert ada.search_document == f"ada lovelace {ada.mrn.lower()} ada@example.org"
    listed = admin_api.get("/api/v1/patients/", {"search": "lovelace"}).json()["results"]
    assert [p["mrn"] for p in listed] == [ada.mrn]
    assert listed[0]["phone"] == "+14155552671"
    assert listed[0]["email"] == "ada@example.org"


def test_bom_and_semicolons_are_recognised(import_patients: Upload, valid_csv: str) -> None:
    content = "\ufeff" + valid_csv.replace(",", ";")

    response = import_patients(content.encode("utf-8"))

    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    assert Patient.objects.filter(first_name="Ada", email="ada@example.org").exists()


def test_all_or_nothing_reports_every_problem_with_its_row(import_patients: Upload) -> None:
    before = _sequence()
    content = (
        "first_name,last_name,date_of_birth,email,phone\n"
        "Good,Row,1980-01-01,good@example.org,\n"
        ",Blank,1980-01-01,,\n"
        "Bad,Email,1980-01-01,not-an-email,\n"
        "Bad,Phone,1980-01-01,,12\n"
        "Old,Person,1815-12-10,,\n"
        "Bad,Date,1980-02-31,,\n"
    )

    response = import_patients(content)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_rejected"
    problems = [(e["row"], e["field"], e["code"]) for e in body["errors"]]
    assert problems == [
        (3, "first_name", "blank"),
        (4, "email", "invalid"),
        (5, "phone", "invalid_phone"),
        (6, "date_of_birth", "too_old"),
        (7, "date_of_birth", "invalid"),
    ]
    assert body["report"]["written"] is False
    assert Patient.objects.count() == 0
    assert _sequence() == before


def test_skip_mode_writes_the_valid_rows(import_patients: Upload) -> None:
    content = (
        "first_name,last_name,date_of_birth\nGood,One,1980-01-01\n,Bad,1980-01-01\n"
        "Good,Two,1981-01-01\n"
    )

    response = import_patients(content, on_error="skip")

    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["skipped"]) == (2, 1)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "first_name")]
    assert sorted(Patient.objects.values_list("last_name", flat=True)) == ["One", "Two"]


def test_dry_run_validates_and_writes_nothing(import_patients: Upload, valid_csv: str) -> None:
    response = import_patients(valid_csv, dry_run=True)

    assert response.status_code == 200
    report = response.json()
    assert (report["created"], report["written"], report["errors"]) == (2, False, [])
    assert Patient.objects.count() == 0


def test_row_numbers_follow_quoted_multi_line_fields(import_patients: Upload) -> None:
    content = (
        "first_name,last_name,date_of_birth\n"
        '"Mary\nAnne","Smith\n\nJones",1980-01-01\n'  # lines 2-5
        "Bad,Date,yesterday\n"  # line 6
        "\n"
        "Also,Bad,\n"  # line 8
    )

    response = import_patients(content)

    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (6, "date_of_birth"),
        (8, "date_of_birth"),
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_rows_are_numbered_by_their_line(fmt: str, import_patients: Upload) -> None:
    rows = [
        {"first_name": "A", "last_name": "B", "date_of_birth": "1980-01-01"},
        {"first_name": "A", "last_name": "B", "date_of_birth": "bad"},
    ]
    content = json.dumps(rows, indent=2) if fmt == "json" else "\n" + _as("ndjson", rows)

    errors = import_patients(content).json()["errors"]

    # json.dumps(indent=2): "[" then 5 lines per object -> the second starts on line 7.
    assert [e["row"] for e in errors] == [7 if fmt == "json" else 3]


def test_duplicates_in_the_file_and_against_the_database(import_patients: Upload) -> None:
    PatientFactory.create(email="taken@example.org")
    Patient.objects.filter(email="taken@example.org").update(external_id="SRC-1")
    content = (
        "first_name,last_name,date_of_birth,email,external_id\n"
        "A,One,1980-01-01,twice@example.org,SRC-2\n"
        "A,Two,1980-01-01,TWICE@example.org,SRC-3\n"
        "A,Three,1980-01-01,taken@Example.org,SRC-4\n"
        "A,Four,1980-01-01,,SRC-2\n"
        "A,Five,1980-01-01,,SRC-1\n"
    )

    response = import_patients(content)

    problems = [(e["row"], e["field"], e["code"]) for e in response.json()["errors"]]
    assert problems == [
        (3, "email", "duplicate_in_file"),
        (4, "email", "duplicate_email"),
        (5, "external_id", "duplicate_in_file"),
        (6, "external_id", "already_exists"),
    ]
    assert Patient.objects.count() == 1


CASES = [
    ({"first_name": ""}, "first_name", "blank"),
    ({"email": "nope"}, "email", "invalid"),
    ({"phone": "12"}, "phone", "invalid_phone"),
    ({"gender": "robot"}, "gender", "invalid_choice"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "future"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "too_old"),
    ({"last_name": " "}, "last_name", "blank"),
    ({"phone": "+1 415 555 2671"}, None, None),
    ({"first_name": "x" * 101}, "first_name", "max_length"),
]


@pytest.mark.parametrize(("change", "field", "code"), CASES)
def test_a_row_the_api_rejects_is_rejected_with_the_same_code(
    change: dict[str, str],
    field: str | None,
    code: str | None,
    import_patients: Upload,
    admin_api: APIClient,
) -> None:
    row = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01", **change}

    api = admin_api.post("/api/v1/patients/", row, format="json").json()
    imported = import_patients(json.dumps([row])).json()

    expected = [(field, code)] if code else []
    assert [(e["field"], e["code"]) for e in api.get("errors", [])] == expected
    assert [(e["field"], e["code"]) for e in imported["errors"]] == expected


def test_duplicate_email_has_the_services_code(
    import_patients: Upload, admin_api: APIClient
) -> None:
    PatientFactory.create(email="dup@example.org")
    row = {"first_name": "A", "last_name": "B", "date_of_birth": "1980-01-01"}
    row["email"] = "DUP@example.org"

    api = admin_api.post("/api/v1/patients/", row, format="json").json()
    imported = import_patients(json.dumps([row])).json()

    assert api["code"] == imported["errors"][0]["code"] == "duplicate_email"


def test_upsert_changes_only_what_differs(import_patients: Upload) -> None:
    same = PatientFactory.create(first_name="Same", last_name="Person", phone="+14155552671")
    moved = PatientFactory.create(first_name="Old", last_name="Name", email="keep@example.org")
    stamps = dict(Patient.objects.values_list("pk", "updated_at"))
    content = (
        "mrn,first_name,last_name,date_of_birth,gender,phone\n"
        f"{same.mrn},Same,Person,{same.date_of_birth},{same.gender},+1 415 555 2671\n"
        f"{moved.mrn},New,Name,{moved.date_of_birth},{moved.gender},\n"
        ",Brand,New,1990-05-05,female,\n"
    )

    response = import_patients(content, mode="upsert")

    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 1), report
    moved.refresh_from_db()
    assert (moved.first_name, moved.email) == ("New", "keep@example.org")  # no email column
    assert moved.search_document.startswith("new name ")
    assert moved.updated_at > stamps[moved.pk]
    same.refresh_from_db()
    assert same.updated_at == stamps[same.pk]
    assert Patient.objects.filter(first_name="Brand").exists()


def test_upsert_matches_external_id_and_keep_mrn_creates_with_the_source_mrn(
    import_patients: Upload,
) -> None:
    known = PatientFactory.create(first_name="Known")
    Patient.objects.filter(pk=known.pk).update(external_id="EXT-1")
    content = (
        "mrn,external_id,first_name,last_name,date_of_birth\n"
        ",EXT-1,Renamed,Person,1970-01-01\n"
        "MRN-900000,EXT-2,Kept,Mrn,1970-01-01\n"
    )

    refused = import_patients(content, mode="upsert")
    assert [(e["row"], e["code"]) for e in refused.json()["errors"]] == [(3, "unknown_mrn")]

    response = import_patients(content, mode="upsert", keep_mrn=True)

    assert response.status_code == 200, response.json()
    assert Patient.objects.get(external_id="EXT-1").first_name == "Renamed"
    assert Patient.objects.get(external_id="EXT-2").mrn == "MRN-900000"
    assert _sequence() == 900000  # the next assigned MRN cannot clash with the kept one
    assert PatientFactory.create().mrn == "MRN-900001"


def test_keep_mrn_refuses_clashes(import_patients: Upload) -> None:
    a = PatientFactory.create()
    b = PatientFactory.create()
    Patient.objects.filter(pk=b.pk).update(external_id="EXT-B")
    create = f"mrn,first_name,last_name,date_of_birth\n{a.mrn},X,Y,1970-01-01\n"
    clash = f"mrn,external_id,first_name,last_name,date_of_birth\n{a.mrn},EXT-B,X,Y,1970-01-01\n"

    taken = import_patients(create, keep_mrn=True).json()["errors"]
    crossed = import_patients(clash, mode="upsert", keep_mrn=True).json()["errors"]

    assert [(e["field"], e["code"]) for e in taken] == [("mrn", "already_exists")]
    assert [(e["field"], e["code"]) for e in crossed] == [("mrn", "identifier_clash")]


def test_create_without_keep_mrn_ignores_the_files_mrn(import_patients: Upload) -> None:
    """The documented default: new patients take the next MRN, whatever the file says
    (even a taken or repeated one), and the counter moves only by what was assigned."""
    existing = PatientFactory.create()
    start = _sequence()
    body = (
        "mrn,first_name,last_name,date_of_birth\n"
        f"{existing.mrn},Ada,Lovelace,1970-01-01\n"
        "MRN-777777,Alan,Turing,1970-01-02\n"
        "MRN-777777,Grace,Hopper,1970-01-03\n"
    )

    response = import_patients(body)

    assert response.status_code == 200, response.json()
    assert response.json()["errors"] == []
    made = Patient.objects.exclude(pk=existing.pk).order_by("mrn")
    assert [p.mrn for p in made] == [f"MRN-{n:06d}" for n in range(start + 1, start + 4)]
    assert _sequence() == start + 3
    assert not Patient.objects.filter(mrn="MRN-777777").exists()


def test_missing_and_unknown_columns_are_400s_naming_them(
    import_patients: Upload, valid_csv: str
) -> None:
    missing = import_patients("first_name,email\nA,a@example.org\n")
    unknown_csv = valid_csv.replace("phone\n", "phone,shoe_size\n").replace("2671\n", "2671,9\n")
    unknown_csv = unknown_csv.replace(",,\n", ",,,10\n")
    unknown = import_patients(unknown_csv)
    ignored = import_patients(unknown_csv, ignore_unknown_columns=True)

    assert missing.status_code == 400
    assert missing.json()["code"] == "missing_columns"
    assert missing.json()["columns"] == ["last_name", "date_of_birth"]
    assert unknown.status_code == 400
    assert (unknown.json()["code"], unknown.json()["columns"]) == ("unknown_columns", ["shoe_size"])
    assert ignored.status_code == 200, ignored.json()
    assert ignored.json()["created"] == 2


def test_limits_and_unsupported_files(import_patients: Upload, settings: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    assert import_patients(png, name="patients.csv").status_code == 415
    assert import_patients(png).json()["code"] == "unsupported_file_type"
    assert import_patients("just some words here\n").status_code == 415
    assert import_patients(b"caf\xe9,b\n").status_code == 415
    settings.IMPORT_MAX_FILE_MB = 1
    big = "first_name,last_name,date_of_birth\n" + "A,B,1980-01-01\n" * 75_000
    response = import_patients(big)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert Patient.objects.count() == 0


def test_a_malformed_file_is_a_400_with_its_line(import_patients: Upload) -> None:
    response = import_patients('[{"first_name": "A"},\n{"oops"}]')
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["row"]) == ("malformed_file", 2)
    ragged = import_patients("first_name,last_name,date_of_birth\nA,B\n")
    assert (ragged.json()["code"], ragged.json()["row"]) == ("malformed_file", 2)


def test_every_import_is_logged_for_the_audit_trail(
    import_patients: Upload, valid_csv: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clinic.transfers"):
        import_patients(valid_csv)

    events = [r for r in caplog.records if getattr(r, "transfer_action", None) == "import"]
    assert [(e.transfer_resource, e.transfer_rows, e.transfer_actor) for e in events] == [  # type: ignore[attr-defined]
        ("patients", 2, "admin-user")
    ]
