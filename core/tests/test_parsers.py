"""The JSON parser's bounds (core.parsers), through real requests."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from appointments.tests.factories import PatientFactory
from interactions.models import Interaction
from interactions.tests.factories import InteractionFactory
from patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENT = '{"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1980-02-03"%s}'


def post_raw(client, url, body: str):
    return client.generic("POST", url, body.encode("utf-8"), content_type="application/json")


def codes(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_anonymous_deeply_nested_token_request_is_one_short_400(api_client, caplog, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * 5000 + "1" + closer * 5000
    with caplog.at_level(logging.INFO):
        response = post_raw(api_client, "/api/v1/auth/token/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested deeper than 32 levels" in response.json()["detail"]
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    assert [r.name for r in caplog.records] == ["clinic.access"]


def test_nesting_up_to_the_limit_reaches_the_serializer(provider_client):
    nested = "[" * 31 + "]" * 31  # 31 arrays inside the object: depth 32
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {nested}')
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    deeper = "[" * 32 + "]" * 32
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {deeper}')
    assert response.json()["code"] == "parse_error"
    assert not Patient.objects.exists()


@override_settings(API_JSON_MAX_ITEMS=100)
def test_arrays_and_objects_are_bounded(provider_client):
    many = "[" + ",".join(["1"] * 101) + "]"
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {many}')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "more than 100 members" in response.json()["detail"]
    keys = "{" + ",".join(f'"k{i}": 1' for i in range(101)) + "}"
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {keys}')
    assert response.json()["code"] == "parse_error"


def test_duplicate_key_is_refused_naming_the_field(provider_client):
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % ', "first_name": "B"')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "duplicate_key"
    assert "first_name" in body["detail"]
    assert codes(response) == {("first_name", "duplicate_key")}
    assert not Patient.objects.exists()


def test_duplicate_key_in_a_nested_object_is_refused(provider_client):
    body = PATIENT % ', "extra": {"x": 1, "x": 2}'
    response = post_raw(provider_client, "/api/v1/patients/", body)
    assert response.json()["code"] == "duplicate_key"
    assert codes(response) == {("x", "duplicate_key")}


@pytest.mark.parametrize(
    "number", ["1e999", "-1e999", "9223372036854775808", "-9223372036854775809", "9" * 5000]
)
def test_numbers_no_column_can_hold_are_parse_errors(provider_client, number):
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {number}')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_constants_are_parse_errors(provider_client, constant):
    response = post_raw(provider_client, "/api/v1/patients/", PATIENT % f', "gender": {constant}')
    assert response.json()["code"] == "parse_error"


def test_invalid_utf8_is_a_parse_error(provider_client):
    response = provider_client.generic(
        "POST", "/api/v1/patients/", b'{"first_name": "\xff"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_nul_in_a_slug_is_a_field_error_on_record(provider_client):
    patient = PatientFactory.create()
    response = post_raw(
        provider_client,
        "/api/v1/interactions/",
        f'{{"patient_id": "{patient.pk}", "outcome": "a\\u0000b"}}',
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert codes(response) == {("outcome", "null_characters_not_allowed")}
    assert not Interaction.objects.exists()


def test_nul_in_a_slug_is_a_field_error_on_amend(provider_client):
    interaction = InteractionFactory.create()
    response = post_raw(
        provider_client,
        f"/api/v1/interactions/{interaction.pk}/amend/",
        '{"outcome": "a\\u0000b", "notes": "x"}',
    )
    assert response.status_code == 400
    assert codes(response) == {("outcome", "null_characters_not_allowed")}
    assert Interaction.objects.count() == 1


def test_nul_is_reported_in_nested_values_and_keys(provider_client):
    body = PATIENT % ', "tags": ["ok", "b\\u0000"], "k\\u0000": 1'
    response = post_raw(provider_client, "/api/v1/patients/", body)
    assert response.status_code == 400
    assert codes(response) == {
        ("tags.1", "null_characters_not_allowed"),
        ("k\\u0000", "null_characters_not_allowed"),
    }


@pytest.mark.parametrize(
    "url", ["/api/v1/patients/?search=a%00b", "/api/v1/interactions/?outcome=a%00b"]
)
def test_nul_in_a_query_parameter_is_a_field_error(viewer_client, url):
    response = viewer_client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    field = url.split("?")[1].split("=")[0]
    assert (field, "null_characters_not_allowed") in codes(response)
