"""Every API write records its event in the transaction of the change.

The write operations are read from the OpenAPI schema; each has at least one case below
that really changes something (a new write operation without a case fails
``test_every_write_operation_has_a_case``). For each case:

* with the audit trail working, the write succeeds, changes the database and records
  exactly one event;
* with the audit table refusing inserts, the client gets a 503 and **no table changed**:
  the event could not be written, so the change did not happen. An event recorded after
  the response (outside the change's transaction) fails this test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_upsert
from appointments.tests.factories import AppointmentFactory
from appointments.tests.helpers import at, future_weekday
from audit.models import AuditEvent
from audit.tests.test_every_operation import OPERATIONS
from audit.tests.test_transactions import audit_table_refuses_inserts  # noqa: F401 (fixture)
from core.permissions import Role
from core.tests.test_hostile_input import snapshot
from doctors.tests.factories import DoctorFactory
from interactions.tests.factories import InteractionFactory
from notes.models import SignatureMeaning
from notes.services import note_sign
from notes.tests.factories import make_note, make_patient
from outcomes.tests.factories import OutcomeFactory
from patients.tests.factories import PatientFactory
from summaries.models import SummaryStatus
from summaries.tests.factories import SummaryFactory
from transfers.models import ImportJob, ImportStatus

PASSWORD = "pw-for-tests-1"
WRITE_METHODS = ("post", "put", "patch", "delete")
PATIENT_CSV = b"first_name,last_name,date_of_birth\nAtomic,Import,1970-01-02\n"


@dataclass(frozen=True)
class Case:
    """One successful write: the caller's role and the request, built on a fresh clinic."""

    role: Role
    build: Callable[[], tuple[str, dict[str, Any]]]
    # The authenticated client is not used (sign-in).
    anonymous: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    # Events the request records: an import job retried runs at once in the embedded
    # default (eager Celery), and the run records its own ``import``.
    events: int = 1


def _json(url: str, body: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    return url, {"data": body or {}, "format": "json"}


def _when(hours_ago: int = 1) -> str:
    return (timezone.now() - timedelta(hours=hours_ago)).isoformat()


def _future() -> str:
    return at(future_weekday(), 10).isoformat()


def _past_appointment() -> Any:
    return AppointmentFactory.create(start_time=timezone.now() - timedelta(hours=3))


def _signed_by_someone_else() -> Any:
    note = make_note()
    other = user_upsert(username="first-signer", role=Role.PROVIDER, password=PASSWORD)
    note_sign(note=note, actor=other, password=PASSWORD, meaning=SignatureMeaning.AUTHORSHIP)
    return note


def _failed_import() -> ImportJob:
    job = ImportJob(kind="patients", file_format="csv", total_rows=1, status=ImportStatus.FAILED)
    job.file.save("atomic.csv", ContentFile(PATIENT_CSV), save=False)
    job.save()
    return job


def _patient_body() -> dict[str, Any]:
    return {"first_name": "Ada", "last_name": "Byron", "date_of_birth": "1985-12-10"}


def _doctor_body() -> dict[str, Any]:
    return {"full_name": "Dr. Atomic", "specialty": "Cardiology", "email": "atomic@clinic.example"}


def _outcome_body(code: str) -> dict[str, Any]:
    return {"code": code, "label": "Atomic", "severity": 2}


def _upload(csv: bytes) -> dict[str, Any]:
    return {"data": {"file": ContentFile(csv, name="rows.csv")}, "format": "multipart"}


CASES: dict[tuple[str, str], dict[str, Case]] = {
    ("post", "/api/v1/patients/"): {
        "create": Case(Role.PROVIDER, lambda: _json("/api/v1/patients/", _patient_body()))
    },
    ("put", "/api/v1/patients/{id}/"): {
        "replace": Case(
            Role.PROVIDER,
            lambda: _json(f"/api/v1/patients/{PatientFactory.create().pk}/", _patient_body()),
        )
    },
    ("patch", "/api/v1/patients/{id}/"): {
        "edit": Case(
            Role.PROVIDER,
            lambda: _json(f"/api/v1/patients/{PatientFactory.create().pk}/", {"last_name": "New"}),
        )
    },
    ("delete", "/api/v1/patients/{id}/"): {
        "delete": Case(Role.ADMIN, lambda: (f"/api/v1/patients/{PatientFactory.create().pk}/", {}))
    },
    ("post", "/api/v1/patients/import/"): {
        "import": Case(Role.ADMIN, lambda: ("/api/v1/patients/import/", _upload(PATIENT_CSV)))
    },
    ("post", "/api/v1/interactions/import/"): {
        "import": Case(
            Role.ADMIN,
            lambda: (
                "/api/v1/interactions/import/",
                _upload(
                    f"patient_id,outcome,occurred_at\n{PatientFactory.create().pk},healthy,"
                    f"{_when()}\n".encode()
                ),
            ),
        )
    },
    ("post", "/api/v1/imports/{id}/retry/"): {
        "retry": Case(
            Role.ADMIN,
            lambda: (f"/api/v1/imports/{_failed_import().pk}/retry/", {}),
            events=2,
        )
    },
    ("post", "/api/v1/doctors/"): {
        "create": Case(Role.ADMIN, lambda: _json("/api/v1/doctors/", _doctor_body()))
    },
    ("put", "/api/v1/doctors/{id}/"): {
        "replace": Case(
            Role.ADMIN,
            lambda: _json(f"/api/v1/doctors/{DoctorFactory.create().pk}/", _doctor_body()),
        )
    },
    ("patch", "/api/v1/doctors/{id}/"): {
        "edit": Case(
            Role.ADMIN,
            lambda: _json(f"/api/v1/doctors/{DoctorFactory.create().pk}/", {"specialty": "ENT"}),
        )
    },
    ("delete", "/api/v1/doctors/{id}/"): {
        "delete": Case(Role.ADMIN, lambda: (f"/api/v1/doctors/{DoctorFactory.create().pk}/", {}))
    },
    ("post", "/api/v1/doctors/{id}/toggle-status/"): {
        "toggle": Case(
            Role.ADMIN,
            lambda: (f"/api/v1/doctors/{DoctorFactory.create().pk}/toggle-status/", {}),
        )
    },
    ("put", "/api/v1/doctors/{id}/toggle-status/"): {
        "toggle": Case(
            Role.ADMIN,
            lambda: (f"/api/v1/doctors/{DoctorFactory.create().pk}/toggle-status/", {}),
        )
    },
    ("post", "/api/v1/outcomes/"): {
        "create": Case(Role.ADMIN, lambda: _json("/api/v1/outcomes/", _outcome_body("atomic")))
    },
    ("put", "/api/v1/outcomes/{code}/"): {
        "replace": Case(
            Role.ADMIN,
            lambda: _json(
                f"/api/v1/outcomes/{OutcomeFactory.create(code='put-me').code}/",
                _outcome_body("put-me"),
            ),
        )
    },
    ("patch", "/api/v1/outcomes/{code}/"): {
        "edit": Case(
            Role.ADMIN,
            lambda: _json(
                f"/api/v1/outcomes/{OutcomeFactory.create().code}/", {"label": "Renamed"}
            ),
        )
    },
    ("delete", "/api/v1/outcomes/{code}/"): {
        "delete": Case(
            Role.ADMIN, lambda: (f"/api/v1/outcomes/{OutcomeFactory.create().code}/", {})
        )
    },
    ("post", "/api/v1/appointments/"): {
        "book": Case(
            Role.PROVIDER,
            lambda: _json(
                "/api/v1/appointments/",
                {
                    "patient_id": str(PatientFactory.create().pk),
                    "doctor_id": str(DoctorFactory.create().pk),
                    "start_time": _future(),
                    "duration_minutes": 30,
                },
            ),
        )
    },
    ("patch", "/api/v1/appointments/{id}/"): {
        "reschedule": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/appointments/"
                f"{AppointmentFactory.create(start_time=at(future_weekday(), 9)).pk}/",
                {"start_time": _future()},
            ),
        )
    },
    ("delete", "/api/v1/appointments/{id}/"): {
        "delete": Case(
            Role.ADMIN,
            lambda: (
                f"/api/v1/appointments/"
                f"{AppointmentFactory.create(start_time=at(future_weekday(), 9)).pk}/",
                {},
            ),
        )
    },
    ("post", "/api/v1/appointments/{id}/cancel/"): {
        "cancel": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/appointments/"
                f"{AppointmentFactory.create(start_time=at(future_weekday(), 9)).pk}/cancel/",
                {"reason": "Feeling better."},
            ),
        )
    },
    ("post", "/api/v1/appointments/{id}/complete/"): {
        "complete": Case(
            Role.PROVIDER, lambda: (f"/api/v1/appointments/{_past_appointment().pk}/complete/", {})
        )
    },
    ("post", "/api/v1/appointments/{id}/no-show/"): {
        "no_show": Case(
            Role.PROVIDER, lambda: (f"/api/v1/appointments/{_past_appointment().pk}/no-show/", {})
        )
    },
    ("post", "/api/v1/interactions/"): {
        "record": Case(
            Role.PROVIDER,
            lambda: _json(
                "/api/v1/interactions/",
                {"patient_id": str(PatientFactory.create().pk), "outcome": "healthy"},
            ),
        )
    },
    ("post", "/api/v1/interactions/{id}/amend/"): {
        "amend": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/interactions/{InteractionFactory.create().pk}/amend/",
                {"outcome": "monitor"},
            ),
        )
    },
    ("post", "/api/v1/interactions/{id}/retract/"): {
        "retract": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/interactions/{InteractionFactory.create().pk}/retract/",
                {"reason": "Wrong patient."},
            ),
        )
    },
    ("post", "/api/v1/patients/{patient_pk}/notes/"): {
        "typed": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/patients/{make_patient().pk}/notes/",
                {"content": "S: cough. A/P: rest.", "taken_at": _when()},
            ),
        )
    },
    ("patch", "/api/v1/notes/{id}/"): {
        "edit": Case(
            Role.ADMIN,
            lambda: _json(f"/api/v1/notes/{make_note().pk}/", {"taken_at": _when(2)}),
        )
    },
    ("delete", "/api/v1/notes/{id}/"): {
        "delete": Case(Role.ADMIN, lambda: (f"/api/v1/notes/{make_note().pk}/", {}))
    },
    ("post", "/api/v1/notes/{id}/addenda/"): {
        "addendum": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/notes/{_signed_by_someone_else().pk}/addenda/",
                {"content": "Addendum: seen again.", "taken_at": _when(0)},
            ),
        )
    },
    ("post", "/api/v1/notes/{id}/reprocess/"): {
        "reprocess": Case(Role.PROVIDER, lambda: (f"/api/v1/notes/{make_note().pk}/reprocess/", {}))
    },
    ("post", "/api/v1/notes/{id}/retract/"): {
        "retract": Case(
            Role.ADMIN,
            lambda: _json(f"/api/v1/notes/{make_note().pk}/retract/", {"reason": "Wrong chart."}),
        )
    },
    ("post", "/api/v1/notes/{id}/sign/"): {
        "first_signature": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/notes/{make_note().pk}/sign/",
                {"password": PASSWORD, "meaning": "authorship"},
            ),
        ),
        "second_signature": Case(
            Role.PROVIDER,
            lambda: _json(
                f"/api/v1/notes/{_signed_by_someone_else().pk}/sign/",
                {"password": PASSWORD, "meaning": "review"},
            ),
        ),
    },
    ("post", "/api/v1/patients/{patient_pk}/summaries/"): {
        "request": Case(
            Role.PROVIDER, lambda: _json(f"/api/v1/patients/{make_patient().pk}/summaries/")
        )
    },
    ("post", "/api/v1/summaries/{id}/retry/"): {
        "retry": Case(
            Role.PROVIDER,
            lambda: (
                f"/api/v1/summaries/{SummaryFactory.create(status=SummaryStatus.FAILED).pk}/retry/",
                {},
            ),
        )
    },
    ("post", "/api/v1/auth/token/"): {
        "sign_in": Case(
            Role.PROVIDER,
            lambda: _json(
                "/api/v1/auth/token/", {"username": "provider-user", "password": PASSWORD}
            ),
            anonymous=True,
        )
    },
    ("delete", "/api/v1/auth/token/"): {
        "sign_out": Case(Role.PROVIDER, lambda: ("/api/v1/auth/token/", {}))
    },
}

PARAMS = [
    pytest.param(method, path, name, id=f"{method.upper()} {path} {name}")
    for (method, path), cases in sorted(CASES.items())
    for name in cases
]


def test_every_write_operation_has_a_case() -> None:
    writes = {(m, p) for m, p in OPERATIONS if m in WRITE_METHODS}
    assert writes == set(CASES), f"missing: {writes - set(CASES)}, unknown: {set(CASES) - writes}"


def _request(method: str, path: str, name: str, client_for: Any) -> tuple[Any, Any, Any]:
    case = CASES[(method, path)][name]
    client: APIClient = client_for(case.role)
    url, kwargs = case.build()
    if case.anonymous:
        client = APIClient()
    before = snapshot()
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def go() -> Any:
        return getattr(client, method)(url, **kwargs)

    return go, before, seq


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path", "name"), PARAMS)
def test_the_write_happens_with_its_event(
    method: str, path: str, name: str, client_for: Any
) -> None:
    go, before, seq = _request(method, path, name, client_for)
    with override_settings(**CASES[(method, path)][name].settings):
        response = go()
    assert 200 <= response.status_code < 300, (response.status_code, response.content[:500])
    assert snapshot() != before, "the case changed nothing"
    events = list(AuditEvent.objects.filter(seq__gt=seq))
    assert len(events) == CASES[(method, path)][name].events, [
        (e.action, e.resource_type) for e in events
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "path", "name"), PARAMS)
def test_a_write_whose_event_cannot_be_written_does_not_happen(
    method: str,
    path: str,
    name: str,
    client_for: Any,
    request: pytest.FixtureRequest,
) -> None:
    go, before, _ = _request(method, path, name, client_for)
    request.getfixturevalue("audit_table_refuses_inserts")
    with override_settings(**CASES[(method, path)][name].settings):
        response = go()
    assert response.status_code == 503, (response.status_code, response.content[:500])
    assert response.json()["code"] == "audit_unavailable"
    assert snapshot() == before


# ------------------------------------------------------------------ the admin console
@pytest.fixture
def admin_browser(admin_user: Any) -> Client:
    """The admin console as a browser sees it: a server error is a response, not raised."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def _complete_two(admin_client: Any) -> tuple[list[Any], Any]:
    appointments = [_past_appointment(), _past_appointment()]
    response = admin_client.post(
        "/admin/appointments/appointment/",
        {"action": "complete", "_selected_action": [str(a.pk) for a in appointments]},
    )
    return appointments, response


@pytest.mark.django_db(transaction=True)
def test_an_admin_bulk_action_records_each_change_with_it(admin_client: Any) -> None:
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    appointments, response = _complete_two(admin_client)
    assert response.status_code == 302
    events = AuditEvent.objects.filter(seq__gt=seq).order_by("seq")
    assert [(e.action, e.resource_type, e.resource_id, e.patient_id) for e in events] == [
        ("update", "appointment", str(a.pk), a.patient_id) for a in appointments
    ]
    assert all(e.status_code is None for e in events)  # each inside its change's transaction


@pytest.mark.django_db(transaction=True)
def test_an_admin_bulk_action_whose_events_cannot_be_written_changes_nothing(
    admin_browser: Client, request: pytest.FixtureRequest
) -> None:
    appointments = [_past_appointment(), _past_appointment()]
    before = snapshot()
    request.getfixturevalue("audit_table_refuses_inserts")
    response = admin_browser.post(
        "/admin/appointments/appointment/",
        {"action": "complete", "_selected_action": [str(a.pk) for a in appointments]},
    )
    assert response.status_code == 503
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_an_admin_edit_whose_event_cannot_be_written_does_not_happen(
    admin_browser: Client, request: pytest.FixtureRequest
) -> None:
    outcome = OutcomeFactory.create(label="Before")
    before = snapshot()
    request.getfixturevalue("audit_table_refuses_inserts")
    response = admin_browser.post(
        f"/admin/outcomes/outcome/{outcome.pk}/change/",
        {
            "code": outcome.code,
            "label": "After",
            "description": "",
            "severity": 1,
            "sort_order": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 503
    assert snapshot() == before
