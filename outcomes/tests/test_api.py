from __future__ import annotations

import pytest
from django.core.management import call_command

from core.permissions import Role
from interactions.tests.factories import InteractionFactory
from outcomes.models import Outcome
from outcomes.tests.factories import OutcomeFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/outcomes/"


def fields_of(response):
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def test_the_migration_installs_the_reference_outcomes(viewer_client):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    rows = [(o["code"], o["label"], o["severity"]) for o in response.json()["results"]]
    assert rows == [
        ("healthy", "Healthy", 0),
        ("monitor", "Monitor", 1),
        ("critical", "Critical", 2),
    ]


def test_loading_the_fixture_twice_changes_nothing():
    call_command("loaddata", "outcomes", verbosity=0)
    first = list(Outcome.objects.order_by("code").values())
    call_command("loaddata", "outcomes", verbosity=0)
    assert list(Outcome.objects.order_by("code").values()) == first
    assert [o["code"] for o in first] == ["critical", "healthy", "monitor"]


def test_create_lower_cases_the_code(admin_client_api):
    body = {"code": "Follow-Up", "label": "Follow-up needed", "severity": 1, "sort_order": 5}
    response = admin_client_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["code"] == "follow-up"
    assert response.json()["is_active"] is True
    assert admin_client_api.get(f"{URL}follow-up/").json()["label"] == "Follow-up needed"


@pytest.mark.parametrize("code", ["Critical", "CRITICAL", " critical "])
def test_duplicate_code_is_a_409_whatever_the_case(admin_client_api, code):
    response = admin_client_api.post(
        URL, {"code": code, "label": "Again", "severity": 5}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_code"
    assert Outcome.objects.get(pk="critical").label == "Critical"


@pytest.mark.parametrize("code", ["", "   ", "has space", "-leading-dash", "x" * 51, "ümlaut"])
def test_empty_or_malformed_code_is_a_400(admin_client_api, code):
    response = admin_client_api.post(
        URL, {"code": code, "label": "X", "severity": 1}, format="json"
    )
    assert response.status_code == 400
    assert "code" in {field for field, _ in fields_of(response)}


def test_missing_label_or_bad_severity_is_a_400(admin_client_api):
    response = admin_client_api.post(URL, {"code": "x", "severity": -1}, format="json")
    assert response.status_code == 400
    assert {field for field, _ in fields_of(response)} == {"label", "severity"}


def test_code_cannot_change(admin_client_api):
    response = admin_client_api.patch(f"{URL}monitor/", {"code": "watch"}, format="json")
    assert response.status_code == 400
    assert fields_of(response) == {("code", "code_immutable")}
    put = admin_client_api.put(
        f"{URL}monitor/", {"code": "watch", "label": "Watch", "severity": 1}, format="json"
    )
    assert put.status_code == 400
    assert Outcome.objects.filter(pk="monitor").exists()
    assert not Outcome.objects.filter(pk="watch").exists()


def test_patch_relabels_and_the_same_code_is_accepted(admin_client_api):
    response = admin_client_api.patch(
        f"{URL}monitor/", {"code": "monitor", "label": "Watch closely"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["label"] == "Watch closely"


def test_deactivate_hides_it_from_the_list_but_not_from_history(admin_client_api):
    interaction = InteractionFactory.create(outcome=Outcome.objects.get(pk="monitor"))
    response = admin_client_api.patch(f"{URL}monitor/", {"is_active": False}, format="json")
    assert response.status_code == 200
    codes = [o["code"] for o in admin_client_api.get(URL).json()["results"]]
    assert codes == ["healthy", "critical"]
    everything = admin_client_api.get(URL, {"include_inactive": "true"}).json()["results"]
    assert [o["code"] for o in everything] == ["healthy", "monitor", "critical"]
    assert admin_client_api.get(f"{URL}monitor/").status_code == 200
    shown = admin_client_api.get(f"/api/v1/interactions/{interaction.pk}/").json()
    assert (shown["outcome"], shown["outcome_label"]) == ("monitor", "Monitor")


def test_include_inactive_must_be_a_boolean(viewer_client):
    response = viewer_client.get(URL, {"include_inactive": "maybe"})
    assert response.status_code == 400
    assert fields_of(response) == {("include_inactive", "invalid")}


def test_delete_unused_is_204_and_in_use_is_409(admin_client_api):
    unused = OutcomeFactory.create()
    assert admin_client_api.delete(f"{URL}{unused.code}/").status_code == 204
    assert not Outcome.objects.filter(pk=unused.code).exists()
    InteractionFactory.create(outcome=Outcome.objects.get(pk="critical"))
    response = admin_client_api.delete(f"{URL}critical/")
    assert response.status_code == 409
    assert response.json()["code"] == "has_dependents"
    assert response.json()["dependents"] == {"interactions": 1}
    assert Outcome.objects.filter(pk="critical").exists()


def test_unknown_or_upper_case_code_in_the_path_is_a_404(viewer_client):
    assert viewer_client.get(f"{URL}nope/").status_code == 404
    assert viewer_client.get(f"{URL}CRITICAL/").status_code == 404


OPERATIONS = {
    "list": ("get", URL, None),
    "retrieve": ("get", f"{URL}healthy/", None),
    "create": ("post", URL, {"code": "new-one", "label": "New", "severity": 3}),
    "update": ("patch", f"{URL}healthy/", {"sort_order": 7}),
    "delete": ("delete", f"{URL}spare/", None),
}
EXPECTED = {
    # operation: (Viewer, Provider, Admin)
    "list": (200, 200, 200),
    "retrieve": (200, 200, 200),
    "create": (403, 403, 201),
    "update": (403, 403, 200),
    "delete": (403, 403, 204),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("role", [Role.VIEWER, Role.PROVIDER, Role.ADMIN])
def test_role_matrix(client_for, operation, role):
    OutcomeFactory.create(code="spare")
    method, url, body = OPERATIONS[operation]
    response = getattr(client_for(role), method)(url, body, format="json")
    expected = EXPECTED[operation][[Role.VIEWER, Role.PROVIDER, Role.ADMIN].index(role)]
    assert response.status_code == expected, response.content


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401
