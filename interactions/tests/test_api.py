from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.tests.factories import AppointmentFactory, PatientFactory
from core.actors import system_actor
from core.permissions import Role
from doctors.tests.factories import DoctorFactory
from interactions.models import Interaction, InteractionStatus
from interactions.services import interaction_amend, interaction_record
from interactions.tests.factories import InteractionFactory
from outcomes.models import Outcome
from outcomes.tests.factories import OutcomeFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/interactions/"


def fields_of(response):
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def outcome(code):
    return Outcome.objects.get(pk=code)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


# --- Recording -----------------------------------------------------------------------------
def test_record_returns_201_with_outcome_details(provider_client):
    patient = PatientFactory.create()
    doctor = DoctorFactory.create()
    appointment = AppointmentFactory.create(patient=patient, doctor=doctor, start_time=ago(hours=2))
    body = {
        "patient_id": str(patient.pk),
        "outcome": "monitor",
        "notes": "  BP 150/95.  ",
        "occurred_at": ago(hours=1).astimezone().isoformat(),
        "doctor_id": str(doctor.pk),
        "appointment_id": str(appointment.pk),
    }
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["outcome"], data["outcome_label"], data["outcome_severity"]) == (
        "monitor",
        "Monitor",
        1,
    )
    assert data["notes"] == "BP 150/95."
    assert data["status"] == "current"
    assert data["amends"] is None
    assert data["amended_by"] is None
    assert data["recorded_by"] == provider_client.user.username
    assert (data["patient_id"], data["doctor_id"], data["appointment_id"]) == (
        body["patient_id"],
        body["doctor_id"],
        body["appointment_id"],
    )
    stored = Interaction.objects.get()
    assert stored.recorded_by == provider_client.user
    assert datetime.fromisoformat(data["occurred_at"]) == datetime.fromisoformat(
        body["occurred_at"]
    )


def test_occurred_at_defaults_to_now_and_notes_to_empty(provider_client):
    before = timezone.now()
    response = provider_client.post(
        URL, {"patient_id": str(PatientFactory.create().pk), "outcome": "healthy"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["notes"] == ""
    assert before <= Interaction.objects.get().occurred_at <= timezone.now()


@pytest.mark.parametrize("value", [str(uuid.uuid4()), "not-a-uuid", None])
def test_unknown_or_malformed_patient_is_a_400_naming_patient_id(provider_client, value):
    response = provider_client.post(URL, {"patient_id": value, "outcome": "healthy"}, format="json")
    assert response.status_code == 400
    assert {field for field, _ in fields_of(response)} == {"patient_id"}


def test_unknown_outcome_is_a_400_naming_outcome(provider_client):
    body = {"patient_id": str(PatientFactory.create().pk), "outcome": "nope"}
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {("outcome", "does_not_exist")}


def test_inactive_outcome_is_a_400_outcome_inactive(provider_client):
    OutcomeFactory.create(code="retired", is_active=False)
    body = {"patient_id": str(PatientFactory.create().pk), "outcome": "retired"}
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {("outcome", "outcome_inactive")}
    assert not Interaction.objects.exists()


def test_appointment_of_another_patient_is_a_400(provider_client):
    appointment = AppointmentFactory.create(start_time=ago(days=1))
    body = {
        "patient_id": str(PatientFactory.create().pk),
        "outcome": "healthy",
        "appointment_id": str(appointment.pk),
    }
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {("appointment_id", "other_patient")}


@pytest.mark.parametrize("field", ["doctor_id", "appointment_id"])
def test_unknown_doctor_or_appointment_is_a_400(provider_client, field):
    body = {"patient_id": str(PatientFactory.create().pk), "outcome": "healthy"}
    body[field] = str(uuid.uuid4())
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert {f for f, _ in fields_of(response)} == {field}


@pytest.mark.parametrize(("minutes_ahead", "status"), [(4, 201), (6, 400), (60 * 24, 400)])
def test_future_occurred_at_beyond_the_clock_skew_is_a_400(provider_client, minutes_ahead, status):
    body = {
        "patient_id": str(PatientFactory.create().pk),
        "outcome": "healthy",
        "occurred_at": (timezone.now() + timedelta(minutes=minutes_ahead)).isoformat(),
    }
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == status
    if status == 400:
        assert fields_of(response) == {("occurred_at", "future")}


def test_naive_occurred_at_is_a_400(provider_client):
    body = {
        "patient_id": str(PatientFactory.create().pk),
        "outcome": "healthy",
        "occurred_at": ago(hours=1).replace(tzinfo=None).isoformat(),
    }
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {("occurred_at", "naive")}


@pytest.mark.parametrize(("length", "status"), [(20_000, 201), (20_001, 400)])
def test_notes_up_to_20000_characters(provider_client, length, status):
    body = {
        "patient_id": str(PatientFactory.create().pk),
        "outcome": "healthy",
        "notes": "x" * length,
    }
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == status
    if status == 400:
        assert fields_of(response) == {("notes", "max_length")}


@pytest.mark.parametrize("extra", [{"status": "amended"}, {"amends": None}, {"colour": "red"}])
def test_unknown_or_read_only_fields_are_a_400(provider_client, extra):
    body = {"patient_id": str(PatientFactory.create().pk), "outcome": "healthy", **extra}
    response = provider_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {(next(iter(extra)), "unknown_field")}


# --- History -------------------------------------------------------------------------------
def test_history_is_chronological_and_stable_for_equal_timestamps(viewer_client):
    patient = PatientFactory.create()
    same = ago(days=1).replace(microsecond=0)
    tied = [InteractionFactory.create(patient=patient, occurred_at=same) for _ in range(5)]
    early = InteractionFactory.create(patient=patient, occurred_at=same - timedelta(hours=1))
    late = InteractionFactory.create(patient=patient, occurred_at=same + timedelta(hours=1))
    InteractionFactory.create()  # another patient
    expected = [early.pk, *sorted(i.pk for i in tied), late.pk]
    routes = [
        (URL, {"patient_id": patient.pk}),
        (f"/api/v1/patients/{patient.pk}/interactions/", {}),
    ]
    for url, base in routes:
        pages: list[uuid.UUID] = []
        for page in (1, 2, 3):
            response = viewer_client.get(url, {**base, "page_size": 3, "page": page})
            assert response.status_code == 200
            pages.extend(uuid.UUID(r["id"]) for r in response.json()["results"])
        assert pages == expected
        newest = viewer_client.get(url, {**base, "ordering": "-occurred_at"}).json()
        assert [uuid.UUID(r["id"]) for r in newest["results"]] == [
            late.pk,
            *sorted((i.pk for i in tied), reverse=False),
            early.pk,
        ]


def test_history_filters(viewer_client):
    patient = PatientFactory.create()
    doctor = DoctorFactory.create()
    a = InteractionFactory.create(patient=patient, occurred_at=ago(days=3), doctor=doctor)
    b = InteractionFactory.create(
        patient=patient, occurred_at=ago(days=2), outcome=outcome("critical")
    )
    c = InteractionFactory.create(
        patient=patient,
        occurred_at=ago(days=1),
        status=InteractionStatus.ENTERED_IN_ERROR,
        retraction_reason="Wrong patient",
        retracted_at=ago(hours=1),
    )

    def ids(**params):
        response = viewer_client.get(f"/api/v1/patients/{patient.pk}/interactions/", params)
        assert response.status_code == 200, response.json()
        return [uuid.UUID(r["id"]) for r in response.json()["results"]]

    assert ids() == [a.pk, b.pk]
    assert ids(include_history="true") == [a.pk, b.pk, c.pk]
    assert ids(status="entered_in_error") == [c.pk]
    assert ids(outcome="critical") == [b.pk]
    assert ids(doctor_id=str(doctor.pk)) == [a.pk]
    assert ids(occurred_after=ago(days=2, hours=1).isoformat()) == [b.pk]
    assert ids(occurred_before=ago(days=2, hours=1).isoformat()) == [a.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"outcome": "nope"},
        {"status": "deleted"},
        {"occurred_after": "2026-01-01T10:00:00"},
        {"include_history": "yes please"},
        {"ordering": "notes"},
        {"patient_id": "123"},
    ],
)
def test_malformed_filters_are_400(viewer_client, params):
    assert viewer_client.get(URL, params).status_code == 400


def test_patient_history_of_an_unknown_patient_is_a_404(viewer_client):
    assert viewer_client.get(f"/api/v1/patients/{uuid.uuid4()}/interactions/").status_code == 404


def test_list_query_count_does_not_grow_with_page_size(
    viewer_client, django_assert_max_num_queries
):
    patient = PatientFactory.create()
    for i in range(12):
        original = interaction_record(
            actor=system_actor(),
            patient=patient,
            outcome=outcome("healthy"),
            occurred_at=ago(days=i + 1),
            doctor=DoctorFactory.create(),
        )
        if i % 3 == 0:
            interaction_amend(actor=system_actor(), interaction=original, notes="Corrected")
    for url in (URL, f"/api/v1/patients/{patient.pk}/interactions/"):
        counts = {}
        for size in (5, 10):  # both with a next page, so both count
            with CaptureQueriesContext(connection) as queries:
                response = viewer_client.get(url, {"page_size": size, "include_history": "true"})
            assert response.status_code == 200
            assert len(response.json()["results"]) == size
            counts[size] = len(queries)
        assert counts[5] == counts[10]
        with django_assert_max_num_queries(counts[10]):
            viewer_client.get(url, {"page_size": 100, "include_history": "true"})


# --- Immutability and corrections ---------------------------------------------------------
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("client", ["provider_client", "admin_client_api"])
def test_no_put_patch_or_delete(request, client, method):
    interaction = InteractionFactory.create()
    response = getattr(request.getfixturevalue(client), method)(
        f"{URL}{interaction.pk}/", {"notes": "rewritten"}, format="json"
    )
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Interaction.objects.get().notes == "Seen today."


def test_amend_creates_a_new_entry_and_marks_the_old_one(provider_client):
    original = interaction_record(
        actor=system_actor(),
        patient=PatientFactory.create(),
        outcome=outcome("healthy"),
        notes="Fine",
        occurred_at=ago(hours=3),
        doctor=DoctorFactory.create(),
    )
    response = provider_client.post(
        f"{URL}{original.pk}/amend/", {"outcome": "critical", "notes": "Not fine"}, format="json"
    )
    assert response.status_code == 201, response.json()
    new = response.json()
    assert new["amends"] == str(original.pk)
    assert (new["outcome"], new["notes"], new["status"]) == ("critical", "Not fine", "current")
    assert new["doctor_id"] == str(original.doctor_id)  # carried over
    assert datetime.fromisoformat(new["occurred_at"]) == original.occurred_at
    old = provider_client.get(f"{URL}{original.pk}/").json()
    assert (old["status"], old["amended_by"], old["outcome"], old["notes"]) == (
        "amended",
        new["id"],
        "healthy",
        "Fine",
    )
    again = provider_client.post(f"{URL}{original.pk}/amend/", {"notes": "x"}, format="json")
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["status"]) == ("not_current", "amended")
    retract = provider_client.post(f"{URL}{original.pk}/retract/", {"reason": "x"}, format="json")
    assert retract.status_code == 409
    # The amendment itself can be amended in turn: a chain.
    second = provider_client.post(f"{URL}{new['id']}/amend/", {"notes": "Third"}, format="json")
    assert second.status_code == 201
    assert provider_client.get(f"{URL}{new['id']}/").json()["amended_by"] == second.json()["id"]
    assert Interaction.objects.count() == 3
    assert Interaction.objects.current().count() == 1


def test_retract_needs_a_reason_and_keeps_the_row(provider_client):
    interaction = interaction_record(
        actor=system_actor(), patient=PatientFactory.create(), outcome=outcome("monitor")
    )
    url = f"{URL}{interaction.pk}/retract/"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = provider_client.post(url, body, format="json")
        assert response.status_code == 400
        assert {f for f, _ in fields_of(response)} == {"reason"}
    response = provider_client.post(url, {"reason": "Wrong patient"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["retraction_reason"], data["retracted_by"]) == (
        "entered_in_error",
        "Wrong patient",
        provider_client.user.username,
    )
    assert data["outcome"] == "monitor"
    twice = provider_client.post(url, {"reason": "Again"}, format="json")
    assert twice.status_code == 409
    assert twice.json()["code"] == "not_current"
    amend = provider_client.post(f"{URL}{interaction.pk}/amend/", {"notes": "x"}, format="json")
    assert amend.status_code == 409


def test_amend_validates_like_a_new_entry(provider_client):
    OutcomeFactory.create(code="retired", is_active=False)
    interaction = interaction_record(
        actor=system_actor(), patient=PatientFactory.create(), outcome=outcome("healthy")
    )
    url = f"{URL}{interaction.pk}/amend/"
    cases = [
        ({}, ("non_field_errors", "no_changes")),
        ({"outcome": "retired"}, ("outcome", "outcome_inactive")),
        (
            {"occurred_at": (timezone.now() + timedelta(hours=1)).isoformat()},
            ("occurred_at", "future"),
        ),
        (
            {"appointment_id": str(AppointmentFactory.create(start_time=ago(days=1)).pk)},
            ("appointment_id", "other_patient"),
        ),
        ({"patient_id": str(PatientFactory.create().pk)}, ("patient_id", "unknown_field")),
        ({"notes": "x" * 20_001}, ("notes", "max_length")),
    ]
    for body, error in cases:
        response = provider_client.post(url, body, format="json")
        assert response.status_code == 400, body
        assert error in fields_of(response), body
    assert Interaction.objects.get().is_current


def test_amend_may_keep_an_outcome_that_became_inactive(provider_client):
    retiring = OutcomeFactory.create(code="retiring")
    interaction = interaction_record(
        actor=system_actor(), patient=PatientFactory.create(), outcome=retiring
    )
    retiring.is_active = False
    retiring.save()
    response = provider_client.post(
        f"{URL}{interaction.pk}/amend/", {"notes": "Typo fixed"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["outcome"] == "retiring"


def test_unknown_interaction_is_a_404(provider_client):
    missing = uuid.uuid4()
    assert provider_client.get(f"{URL}{missing}/").status_code == 404
    assert provider_client.post(f"{URL}{missing}/amend/", {"notes": "x"}).status_code == 404
    assert provider_client.post(f"{URL}{missing}/retract/", {"reason": "x"}).status_code == 404


def test_patient_with_interactions_cannot_be_deleted(admin_client_api):
    interaction = InteractionFactory.create()
    response = admin_client_api.delete(f"/api/v1/patients/{interaction.patient_id}/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "has_dependents"
    assert body["dependents"] == {"interactions": 1}
    assert "1 interaction" in body["detail"]


# --- Roles ---------------------------------------------------------------------------------
OPERATIONS = {
    "list": ("get", lambda i: URL, None),
    "patient_history": ("get", lambda i: f"/api/v1/patients/{i.patient_id}/interactions/", None),
    "retrieve": ("get", lambda i: f"{URL}{i.pk}/", None),
    "create": ("post", lambda i: URL, "record"),
    "amend": ("post", lambda i: f"{URL}{i.pk}/amend/", {"notes": "Corrected"}),
    "retract": ("post", lambda i: f"{URL}{i.pk}/retract/", {"reason": "Wrong patient"}),
}
EXPECTED = {
    # operation: (Viewer, Provider, Admin)
    "list": (200, 200, 200),
    "patient_history": (200, 200, 200),
    "retrieve": (200, 200, 200),
    "create": (403, 201, 201),
    "amend": (403, 201, 201),
    "retract": (403, 200, 200),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER, Role.ADMIN])
def test_role_matrix(client_for, operation, role):
    interaction = InteractionFactory.create()
    method, url, body = OPERATIONS[operation]
    if body == "record":
        body = {"patient_id": str(interaction.patient_id), "outcome": "healthy"}
    response = getattr(client_for(role), method)(url(interaction), body, format="json")
    expected = EXPECTED[operation][[Role.VIEWER, Role.PROVIDER, Role.ADMIN].index(role)]
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_401(api_client, method):
    assert getattr(api_client, method)(URL, {}, format="json").status_code == 401


def test_services_refuse_a_naive_time():
    with pytest.raises(ValidationError) as exc:
        interaction_record(
            actor=system_actor(),
            patient=PatientFactory.create(),
            outcome=outcome("healthy"),
            occurred_at=datetime(2026, 1, 1, 9, 0),
        )
    assert exc.value.error_dict["occurred_at"][0].code == "naive"
    assert not Interaction.objects.exists()


def test_an_appointment_with_interactions_cannot_be_deleted(admin_client_api) -> None:
    from appointments.tests.factories import AppointmentFactory
    from interactions.models import Interaction
    from interactions.services import interaction_record
    from outcomes.models import Outcome

    appointment = AppointmentFactory.create(
        start_time=timezone.now() - timedelta(hours=2), status="completed"
    )
    interaction_record(
        actor=system_actor(),
        patient=appointment.patient,
        outcome=Outcome.objects.get(code="healthy"),
        appointment=appointment,
        occurred_at=timezone.now() - timedelta(hours=1),
    )
    response = admin_client_api.delete(f"/api/v1/appointments/{appointment.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "has_dependents"
    assert response.json()["dependents"] == {"interactions": 1}
    assert Interaction.objects.filter(appointment=appointment).count() == 1


def test_the_admin_refuses_to_delete_an_appointment_with_interactions(admin_client) -> None:
    from appointments.tests.factories import AppointmentFactory
    from interactions.services import interaction_record
    from outcomes.models import Outcome

    appointment = AppointmentFactory.create(
        start_time=timezone.now() - timedelta(hours=2), status="completed"
    )
    interaction_record(
        actor=system_actor(),
        patient=appointment.patient,
        outcome=Outcome.objects.get(code="healthy"),
        appointment=appointment,
        occurred_at=timezone.now() - timedelta(hours=1),
    )
    url = f"/admin/appointments/appointment/{appointment.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    # The service decides and its refusal is shown (the API's wording).
    refused = admin_client.post(url, {"post": "yes"}, follow=True)
    assert type(appointment).objects.filter(pk=appointment.pk).exists()
    assert b"cannot be deleted" in refused.content


def test_filter_offsets_beyond_the_databases_range_are_compared_in_utc(viewer_client) -> None:
    """ISO 8601 allows +16:13; PostgreSQL does not. The filter converts to UTC first."""
    response = viewer_client.get(
        "/api/v1/interactions/",
        {
            "occurred_before": "0250-12-22T22:16:25+16:13",
            "occurred_after": "2026-01-01T00:00:00-23:59",
        },
    )
    assert response.status_code == 200
    assert response.json()["count"] == 0
