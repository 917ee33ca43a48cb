"""GET /api/v1/{patients,interactions}/export/: streamed, filtered, minimised, and
re-importable."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import system_actor
from interactions.models import Interaction
from interactions.services import interaction_record, interaction_retract
from outcomes.models import Outcome
from patients.models import Patient
from patients.tests.factories import PatientFactory
from transfers.formats import neutralise, restore
from transfers.tests.conftest import Upload, streamed

pytestmark = pytest.mark.django_db


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


@pytest.fixture
def clinic() -> list[Patient]:
    people = [
        PatientFactory.create(
            first_name="Ann", last_name="Able", gender="female", phone="+14155552671"
        ),
        PatientFactory.create(first_name="Bob", last_name="Baker", gender="male"),
        PatientFactory.create(
            first_name='=HYPERLINK("http://x")', last_name="Cee", gender="female"
        ),
    ]
    interaction_record(
        actor=system_actor(),
        patient=people[0],
        outcome=Outcome.objects.get(pk="monitor"),
        notes="@ok",
    )
    return people


def test_a_csv_export_is_streamed_dated_and_minimised(
    admin_api: APIClient, clinic: list[Patient]
) -> None:
    response = admin_api.get("/api/v1/patients/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="patients-{day}.csv"'
    rows = _csv(streamed(response))
    assert [r["last_name"] for r in rows] == ["Able", "Baker", "Cee"]
    assert rows[2]["first_name"] == '\'=HYPERLINK("http://x")'  # inert in a spreadsheet
    assert "email" not in rows[0] and "phone" not in rows[0]
    assert rows[0]["mrn"] == clinic[0].mrn
    assert rows[0]["latest_outcome"] == "monitor"


def test_contact_details_only_on_request_and_fields_select_columns(
    admin_api: APIClient, clinic: list[Patient]
) -> None:
    full = _csv(streamed(admin_api.get("/api/v1/patients/export/?include_contact=true")))
    assert (full[0]["email"], full[0]["phone"]) == (clinic[0].email, "'+14155552671")

    picked = admin_api.get("/api/v1/patients/export/", {"fields": "mrn,last_name"})
    assert streamed(picked).decode().splitlines()[:2] == ["mrn,last_name", f"{clinic[0].mrn},Able"]

    refused = admin_api.get("/api/v1/patients/export/", {"fields": "mrn,email"})
    unknown = admin_api.get("/api/v1/patients/export/", {"fields": "mrn,shoe_size"})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_option")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid_option")
    assert admin_api.get("/api/v1/patients/export/", {"format": "xlsx"}).status_code == 400


def test_the_list_filters_apply(admin_api: APIClient, clinic: list[Patient]) -> None:
    women = _csv(streamed(admin_api.get("/api/v1/patients/export/", {"gender": "female"})))
    assert {r["first_name"] for r in women} == {"Ann", '\'=HYPERLINK("http://x")'}
    found = _csv(streamed(admin_api.get("/api/v1/patients/export/", {"search": "baker"})))
    assert [r["last_name"] for r in found] == ["Baker"]
    bad = admin_api.get("/api/v1/patients/export/", {"gender": "robot"})
    assert bad.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_exports(fmt: str, admin_api: APIClient, clinic: list[Patient]) -> None:
    response = admin_api.get("/api/v1/patients/export/", {"format": fmt})
    body = streamed(response).decode()
    rows = json.loads(body) if fmt == "json" else [json.loads(x) for x in body.splitlines()]

    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    assert [r["first_name"] for r in rows] == ["Ann", "Bob", '=HYPERLINK("http://x")']
    assert rows[0]["date_of_birth"] == clinic[0].date_of_birth.isoformat()


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'plain", "plain", "", "'"],
)
def test_neutralisation_is_reversed_exactly(value: str) -> None:
    out = neutralise(value)
    assert out[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert restore(out) == value


def test_patients_round_trip_losslessly(
    admin_api: APIClient, clinic: list[Patient], import_patients: Upload
) -> None:
    before = admin_api.get("/api/v1/patients/").json()["results"]
    exported = streamed(admin_api.get("/api/v1/patients/export/?include_contact=true"))

    # Unchanged when imported over itself...
    again = import_patients(exported, mode="upsert").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3), again

    # ...and identical when loaded into an empty clinic.
    Interaction.objects.all().delete()
    Patient.objects.all().delete()
    loaded = import_patients(exported, mode="upsert", keep_mrn=True)
    assert loaded.status_code == 200, loaded.json()
    after = admin_api.get("/api/v1/patients/").json()["results"]
    volatile = ("latest_outcome", "created_at", "updated_at")
    assert [{k: v for k, v in p.items() if k not in volatile} for p in after] == [
        {k: v for k, v in p.items() if k not in volatile} for p in before
    ]


def test_interactions_round_trip_and_history_is_opt_in(
    admin_api: APIClient, clinic: list[Patient], import_interactions: Upload
) -> None:
    ann = clinic[0]
    wrong = interaction_record(
        actor=system_actor(), patient=ann, outcome=Outcome.objects.get(pk="critical")
    )
    interaction_retract(actor=system_actor(), interaction=wrong, reason="wrong patient")
    current = admin_api.get("/api/v1/interactions/export/")
    rows = _csv(streamed(current))
    assert [(r["mrn"], r["outcome"], r["notes"]) for r in rows] == [(ann.mrn, "monitor", "'@ok")]
    history = _csv(streamed(admin_api.get("/api/v1/interactions/export/?include_history=true")))
    assert len(history) == 2
    exported = streamed(admin_api.get("/api/v1/interactions/export/"))
    before = admin_api.get("/api/v1/interactions/").json()["results"]

    Interaction.objects.all().delete()
    response = import_interactions(exported)

    assert response.status_code == 200, response.json()
    after = admin_api.get("/api/v1/interactions/").json()["results"]
    volatile = ("recorded_at", "recorded_by")
    assert [{k: v for k, v in i.items() if k not in volatile} for i in after] == [
        {k: v for k, v in i.items() if k not in volatile} for i in before
    ]
    assert Patient.objects.get(pk=ann.pk).latest_outcome.code == "monitor"


def test_every_export_is_logged_with_its_row_count(
    admin_api: APIClient, clinic: list[Patient], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clinic.transfers"):
        streamed(admin_api.get("/api/v1/patients/export/", {"gender": "female"}))

    events: list[Any] = [r for r in caplog.records if getattr(r, "transfer_action", "") == "export"]
    assert [(e.transfer_resource, e.transfer_rows, e.transfer_actor) for e in events] == [
        ("patients", 2, "admin-user")
    ]


def _backend_query(pid: int) -> str:
    """What PostgreSQL backend ``pid`` is running, seen from a connection of our own."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as observer:
        row = observer.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    assert row is not None
    return f"{row[0]}: {row[1]}"


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_postgres_export_streams_from_a_server_side_cursor(
    fmt: str, admin_api: APIClient, import_patients: Upload, settings: Any
) -> None:
    """Every format is made by the server (COPY ... TO STDOUT): the response starts while
    the query is still being read."""
    from django.db import connection

    from transfers.tests.test_jobs import patient_rows

    settings.IMPORT_SYNC_MAX_ROWS = 20_000
    assert import_patients(patient_rows(12_000)).json()["created"] == 12_000
    connection.ensure_connection()
    assert connection.connection is not None
    pid = connection.connection.info.backend_pid

    response = admin_api.get("/api/v1/patients/export/", {"ordering": "mrn", "format": fmt})
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]
    first = next(chunks) + next(chunks)  # the CSV header is a chunk of its own

    # Data is out while the server still holds the rest of the set.
    running = _backend_query(pid)
    assert running.startswith("active: COPY (SELECT"), running
    assert 1 < first.count(b"\n") < 12_000
    rest = b"".join(chunks)
    assert (first + rest).count(b"\n") == 12_000 + (fmt == "csv")
    assert not _backend_query(pid).startswith("active")


TRICKY_TEXT = [
    'quote " and backslash \\ and slash /',
    "tab\tnew line\ncarriage\rreturn",
    "controls \x01\x08\x0c\x1f and DEL \x7f",
    "unicode Zoë 東京 \u2028 \u2029 😀",
    "=formula",
    "'apostrophe",
    "",
]


def _reference_json(queryset: Any, names: list[str], fmt: str) -> bytes:
    """What the JSON exports were before the server wrote them: PostgreSQL's text of
    each value (uuid, date, timestamptz loaded as text, times through ``_iso``),
    encoded by ``transfers.formats.write``."""
    from django.db import connection
    from psycopg.types.string import TextLoader

    from transfers.exporting import TIMESTAMPTZ_OID, _iso
    from transfers.formats import write

    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    assert connection.connection is not None
    with connection.connection.cursor() as cursor:
        for type_name in ("uuid", "date", "timestamptz"):
            cursor.adapters.register_loader(type_name, TextLoader)
        cursor.execute(sql, params)
        stamps = [
            i for i, c in enumerate(cursor.description or ()) if c.type_code == TIMESTAMPTZ_OID
        ]
        rows = []
        for row in cursor.fetchall():
            values = list(row)
            for i in stamps:
                if values[i] is not None:
                    values[i] = _iso(values[i])
            rows.append(values)
    return b"".join(write(fmt, names, rows))


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", ["json", "ndjson"])
@pytest.mark.parametrize("count", [0, 1, 3000])
def test_postgres_json_exports_are_byte_identical_to_the_python_encoding(
    fmt: str, count: int
) -> None:
    """The server writes the JSON (to_json over COPY): the bytes are those Python's
    encoder made of the same rows, escapes, NULLs, times and array framing included."""
    from transfers.exporting import INTERACTION_COLUMNS, PATIENT_COLUMNS, stream
    from transfers.formats import parse
    from transfers.importing import ImportOptions, import_patients
    from transfers.tests.test_jobs import patient_rows

    patients = [PatientFactory.create() for _ in range(min(count, 3))]
    if count > 3:
        import_patients(parse(patient_rows(count - 3).encode()), ImportOptions())
    for n, patient in enumerate(patients):
        Patient.objects.filter(pk=patient.pk).update(
            first_name=TRICKY_TEXT[n % len(TRICKY_TEXT)], external_id=TRICKY_TEXT[(n + 1) % 7]
        )
        interaction_record(
            patient=patient,
            outcome=Outcome.objects.get(code="healthy"),
            occurred_at=timezone.now() - timedelta(hours=n, microseconds=n * 1500),
            notes=TRICKY_TEXT[(n + 2) % len(TRICKY_TEXT)],
            actor=system_actor(),
        )
    for queryset, columns in (
        (Patient.objects.order_by("mrn"), PATIENT_COLUMNS),
        (Interaction.objects.order_by("occurred_at", "id"), INTERACTION_COLUMNS),
    ):
        values = queryset.values_list(*(c.source for c in columns))
        names = [c.name for c in columns]

        served = b"".join(stream(queryset, columns, fmt))

        assert served == _reference_json(values, names, fmt)
        if count:
            assert served.count(b"\n") >= min(count, 3)
