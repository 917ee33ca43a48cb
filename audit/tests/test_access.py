"""Who looked: reasons and break-the-glass, sign-ins, the access log, the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_upsert
from appointments.tests.factories import AppointmentFactory
from audit.models import Action, AuditEvent
from audit.tests.conftest import events_after, last_seq
from core.permissions import Role
from doctors.tests.factories import DoctorFactory
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient() -> Patient:
    return PatientFactory.create()


def _one_event(before: int) -> AuditEvent:
    (event,) = events_after(before)
    return event


# --- X-Access-Reason and break the glass ------------------------------------------------


def test_the_reason_header_is_recorded(viewer_client: APIClient, patient: Patient) -> None:
    before = last_seq()
    response = viewer_client.get(
        f"/api/v1/patients/{patient.pk}/", HTTP_X_ACCESS_REASON="Referral review"
    )
    assert response.status_code == 200
    event = _one_event(before)
    assert (event.reason, event.break_glass) == ("Referral review", False)


@override_settings(AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT=True)
def test_without_an_appointment_a_read_needs_a_reason(
    provider_client: APIClient, patient: Patient
) -> None:
    url = f"/api/v1/patients/{patient.pk}/"
    before = last_seq()
    refused = provider_client.get(url)
    assert refused.status_code == 403
    assert refused.json()["code"] == "access_reason_required"
    event = _one_event(before)
    assert (event.action, event.patient_id) == (Action.PERMISSION_DENIED, patient.pk)

    before = last_seq()
    allowed = provider_client.get(url, HTTP_X_ACCESS_REASON="Covering for Dr Smith")
    assert allowed.status_code == 200
    event = _one_event(before)
    assert (event.action, event.break_glass, event.reason) == (
        Action.VIEW,
        True,
        "Covering for Dr Smith",
    )

    # Sub-resources and records that belong to the patient are guarded too.
    assert provider_client.get(f"{url}timeline/").status_code == 403
    assert provider_client.get(f"/api/v1/patients/{patient.pk}/notes/").status_code == 403


@override_settings(AUDIT_REQUIRE_REASON_WITHOUT_APPOINTMENT=True)
def test_the_patients_own_doctor_needs_no_reason(patient: Patient, client_for) -> None:
    client: APIClient = client_for(Role.PROVIDER)
    doctor = DoctorFactory.create(user=client.user)  # type: ignore[attr-defined]
    start = timezone.now() + timedelta(days=1)
    appointment = AppointmentFactory.create(patient=patient, doctor=doctor, start_time=start)
    before = last_seq()
    assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert client.get(f"/api/v1/appointments/{appointment.pk}/").status_code == 200
    assert [e.break_glass for e in events_after(before)] == [False, False]


# --- Sign-ins and tokens ------------------------------------------------------------------


def test_token_issue_failure_and_revoke_are_recorded(api_client: APIClient) -> None:
    user = user_upsert(username="nurse-rita", role=Role.VIEWER, password="pw-for-tests-1")
    before = last_seq()
    wrong = api_client.post(
        "/api/v1/auth/token/", {"username": "nurse-rita", "password": "nope"}, format="json"
    )
    assert wrong.status_code == 401
    event = _one_event(before)
    assert (event.action, event.actor_id, event.status_code) == (Action.LOGIN_FAILED, None, 401)
    assert event.actor_username == "nurse-rita"
    assert "nope" not in str(event.__dict__)

    before = last_seq()
    right = api_client.post(
        "/api/v1/auth/token/",
        {"username": "nurse-rita", "password": "pw-for-tests-1"},
        format="json",
    )
    assert right.status_code == 200
    event = _one_event(before)
    assert (event.action, event.actor_id, event.actor_role) == (
        Action.TOKEN_ISSUED,
        user.pk,
        "Viewer",
    )
    token = right.json()["token"]
    assert token not in str(event.__dict__) and event.resource_id == token[: len(event.resource_id)]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = last_seq()
    assert api_client.delete("/api/v1/auth/token/").status_code == 204
    assert _one_event(before).action == Action.TOKEN_REVOKED


def test_admin_login_failed_login_and_logout_are_recorded() -> None:
    user_upsert(username="office-admin", role=Role.ADMIN, password="pw-for-tests-1")
    browser = Client()
    before = last_seq()
    browser.post("/admin/login/", {"username": "office-admin", "password": "wrong"})
    event = _one_event(before)
    assert (event.action, event.actor_username) == (Action.LOGIN_FAILED, "office-admin")

    before = last_seq()
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": "office-admin", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    event = _one_event(before)
    assert (event.action, event.actor_username) == (Action.LOGIN, "office-admin")

    before = last_seq()
    browser.post("/admin/logout/")
    assert _one_event(before).action == Action.LOGOUT


def test_a_role_refusal_is_recorded(viewer_client: APIClient, patient: Patient) -> None:
    before = last_seq()
    assert viewer_client.delete(f"/api/v1/patients/{patient.pk}/").status_code == 403
    event = _one_event(before)
    assert (event.action, event.resource_type, event.patient_id, event.status_code) == (
        Action.PERMISSION_DENIED,
        "patient",
        patient.pk,
        403,
    )
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_anonymous_requests_record_nothing(api_client: APIClient, patient: Patient) -> None:
    before = last_seq()
    assert api_client.get(f"/api/v1/patients/{patient.pk}/").status_code == 401
    assert events_after(before) == []


# --- The access log and the audit-events list -----------------------------------------


def test_the_access_log_shows_views_changes_and_search_appearances(
    viewer_client: APIClient, provider_client: APIClient, admin_client_api: APIClient
) -> None:
    patient = PatientFactory.create(last_name="Thistlewood")
    other = PatientFactory.create(last_name="Appleby")
    viewer_client.get("/api/v1/patients/", {"search": "Thistlewood"})
    viewer_client.get(f"/api/v1/patients/{patient.pk}/")
    provider_client.patch(f"/api/v1/patients/{patient.pk}/", {"phone": "+14155550100"})
    viewer_client.get(f"/api/v1/patients/{other.pk}/")

    log = admin_client_api.get(f"/api/v1/patients/{patient.pk}/access-log/")
    assert log.status_code == 200
    rows = log.json()["results"]
    assert [(r["action"], r["actor"]["username"]) for r in rows] == [
        ("update", "provider-user"),
        ("view", "viewer-user"),
        ("search", "viewer-user"),
    ]
    assert rows[2]["patient_id"] is None and str(patient.pk) in rows[2]["returned_ids"]
    assert viewer_client.get(f"/api/v1/patients/{patient.pk}/access-log/").status_code == 403


def test_audit_events_filter_and_page_with_a_cursor(
    viewer_client: APIClient, admin_client_api: APIClient
) -> None:
    patients = PatientFactory.create_batch(3)
    for p in patients:
        viewer_client.get(f"/api/v1/patients/{p.pk}/")
    url = "/api/v1/audit-events/"
    page = admin_client_api.get(url, {"actor": "viewer-user", "page_size": "2"}).json()
    assert [r["patient_id"] for r in page["results"]] == [str(patients[2].pk), str(patients[1].pk)]
    following = admin_client_api.get(page["next"]).json()
    assert [r["patient_id"] for r in following["results"]] == [str(patients[0].pk)]
    assert following["next"] is None

    by_patient = admin_client_api.get(url, {"patient_id": str(patients[1].pk)}).json()
    # The patient's read, and the admin's own page of the trail that listed it.
    assert {(r["action"], r["resource_type"]) for r in by_patient["results"]} == {
        ("view", "patient"),
        ("list", "audit_event"),
    }
    assert admin_client_api.get(url, {"action": "login"}).json()["results"] == []
    naive = admin_client_api.get(url, {"at_after": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    recent = admin_client_api.get(url, {"at_after": since, "resource_type": "patient"}).json()
    assert len(recent["results"]) == 3
    assert viewer_client.get(url).status_code == 403


# --- Change history -------------------------------------------------------------------


def test_the_history_says_who_changed_which_field_from_what_to_what(
    provider_client: APIClient, admin_client_api: APIClient, admin_client: Client
) -> None:
    created = provider_client.post(
        "/api/v1/patients/",
        {"first_name": "Ivy", "last_name": "Lane", "date_of_birth": "1970-01-02"},
        format="json",
    )
    pk = created.json()["id"]
    provider_client.patch(f"/api/v1/patients/{pk}/", {"last_name": "Lane-Hart"}, format="json")

    history = admin_client_api.get(f"/api/v1/patients/{pk}/history/")
    assert history.status_code == 200
    newest, first = history.json()["results"][:2]
    assert newest["change"] == "changed"
    assert newest["actor"]["username"] == "provider-user"
    assert newest["changes"] == [{"field": "last_name", "old": "Lane", "new": "Lane-Hart"}]
    assert first["change"] == "created"
    assert provider_client.get(f"/api/v1/patients/{pk}/history/").status_code == 403

    page = admin_client.get("/admin/audit/historicalpatient/")
    assert page.status_code == 200
    assert "Lane-Hart" in page.content.decode()


def test_an_event_recorded_by_the_view_itself_is_the_only_one(api_client: APIClient) -> None:
    """A lockout handler (or any code serving the request) that records its own event,
    e.g. ``locked_out``, is not followed by a second, generic one."""
    from django.contrib.auth.signals import user_login_failed

    from audit.recorder import audit_record

    def lock_out(sender, credentials, request=None, **kwargs):
        audit_record(
            request=request,
            action=Action.LOCKED_OUT,
            resource_type="session",
            actor_username=credentials.get("username", ""),
        )

    user_upsert(username="locked-lou", role=Role.VIEWER, password="pw-for-tests-1")
    user_login_failed.connect(lock_out, dispatch_uid="test-lock-out")
    try:
        before = last_seq()
        response = api_client.post(
            "/api/v1/auth/token/", {"username": "locked-lou", "password": "x"}, format="json"
        )
    finally:
        user_login_failed.disconnect(dispatch_uid="test-lock-out")
    assert response.status_code == 401
    event = _one_event(before)
    assert (event.action, event.actor_username) == (Action.LOCKED_OUT, "locked-lou")


def test_a_lockout_is_recorded_as_locked_out(api_client: APIClient, settings: Any) -> None:
    user_upsert(username="lou-locked", role=Role.VIEWER, password="pw-for-tests-1")
    actions = []
    for _ in range(settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT + 1):
        before = last_seq()
        api_client.post(
            "/api/v1/auth/token/", {"username": "lou-locked", "password": "no"}, format="json"
        )
        actions.append([(e.action, e.actor_username) for e in events_after(before)])
    assert actions[0] == [(Action.LOGIN_FAILED, "lou-locked")]
    assert [("locked_out", "lou-locked")] in actions
    assert all(len(a) == 1 for a in actions)  # one event per attempt


@pytest.mark.django_db
def test_an_unserved_method_is_a_405_and_an_attempted_read(client_for: Any) -> None:
    """Schemathesis sends TRACE; the audit mixin once had no action for it (a 500)."""
    client = client_for(Role.PROVIDER)
    before = last_seq()
    response = client.generic("TRACE", "/api/v1/patients/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    (event,) = events_after(before)
    assert (event.action, event.status_code) == (Action.VIEW, 405)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [("text/plain", '{"username": "a", "password": "b"}', 415), ("application/json", "\x00", 400)],
)
def test_a_sign_in_with_an_unreadable_body_is_refused_and_recorded(
    content_type: str, body: str, status: int
) -> None:
    """Schemathesis found these as 500s: the failed sign-in's event read the bad body."""
    client = APIClient()
    before = last_seq()
    response = client.generic("POST", "/api/v1/auth/token/", body, content_type=content_type)
    assert response.status_code == status
    events = events_after(before)
    assert [(e.action, e.actor_username) for e in events] in ([], [(Action.LOGIN_FAILED, "")])
