"""core.filters.FilterSet builds its form class once per FilterSet class; what a request
binds, and what the database holds, must still be read per request."""

from __future__ import annotations

from typing import Any

import django_filters
import pytest
from django.http import QueryDict

from core.filters import FilterSet
from core.tests.clients import UserClient
from interactions.filters import InteractionFilterSet, PatientInteractionFilterSet
from outcomes.models import Outcome
from outcomes.tests.factories import OutcomeFactory
from patients.filters import PatientFilterSet
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_form_class_is_built_once_per_filterset_class() -> None:
    first = PatientFilterSet(QueryDict("gender=female")).get_form_class()
    assert PatientFilterSet(QueryDict("gender=male")).get_form_class() is first
    assert (
        PatientInteractionFilterSet().get_form_class()
        is not InteractionFilterSet().get_form_class()
    )
    assert set(PatientInteractionFilterSet().get_form_class().base_fields) == set(
        PatientInteractionFilterSet.base_filters
    )


def test_each_request_binds_its_own_values(provider_client: UserClient) -> None:
    PatientFactory.create(gender="female", last_name="Anders")
    PatientFactory.create(gender="male", last_name="Brandt")
    for gender, name in [("female", "Anders"), ("male", "Brandt"), ("female", "Anders")]:
        body = provider_client.get(f"/api/v1/patients/?gender={gender}").json()
        assert [p["last_name"] for p in body["results"]] == [name]
    assert provider_client.get("/api/v1/patients/?gender=robot").status_code == 400
    assert provider_client.get("/api/v1/patients/").json()["count"] == 2


def test_choices_from_the_database_are_read_per_request(provider_client: UserClient) -> None:
    assert provider_client.get("/api/v1/patients/?latest_outcome=deferred").status_code == 400
    OutcomeFactory.create(code="deferred")  # after the form class was built
    response = provider_client.get("/api/v1/patients/?latest_outcome=deferred")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_request_dependent_choices_are_not_cached() -> None:
    def outcomes(request: Any) -> Any:
        return Outcome.objects.filter(code=getattr(request, "wanted", "healthy"))

    class PerRequest(FilterSet):
        latest_outcome = django_filters.ModelChoiceFilter(
            field_name="latest__outcome", queryset=outcomes, to_field_name="code"
        )

        class Meta:
            model = Patient
            fields = ["gender"]

    assert PerRequest().get_form_class() is not PerRequest().get_form_class()
    assert "_form_class" not in PerRequest.__dict__
