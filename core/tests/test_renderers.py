"""core.renderers.JSONRenderer (orjson) against DRF's JSONRenderer, byte for byte."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import ipaddress
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import JSONRenderer


@dataclasses.dataclass
class Point:
    x: int


def both(data: object, accepted: str | None = None) -> tuple[bytes, bytes]:
    return (
        JSONRenderer().render(data, accepted),
        renderers.JSONRenderer().render(data, accepted),
    )


VALUES: list[object] = [
    {"id": uuid.UUID("5f0c3a52-4a8e-4a55-9a59-0d6f7c1f2b11"), "n": None, "ok": True},
    dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 9, 30, 5, 120, tzinfo=ZoneInfo("Asia/Kolkata")),
    dt.datetime(2026, 3, 2, 9, 30),  # naive: no offset, as DRF writes it
    dt.date(1961, 3, 4),
    dt.time(9, 30, 15, 500),
    dt.timedelta(minutes=90, microseconds=5),
    decimal.Decimal("12.50"),
    ipaddress.ip_address("10.1.2.3"),
    gettext_lazy("This field is required."),
    ErrorDetail("Unknown field.", code="unknown_field"),
    {"nested": [1, -2, 2**63 - 1, -(2**63), 0.1, 1.5e300, -0.0, [], {}]},
    (1, 2, 3),
    frozenset(),
    "naïve café \u2013 東京 \u2013 🙂",
    'quote " backslash \\ slash / controls \b\f\n\r\t \x00 \x01 \x1f \x7f',
    "line\u2028separator\u2029paragraph",
    "".join(chr(c) for c in range(0x20)),
    ReturnDict({"a": 1}, serializer=Serializer()),
    ReturnList([{"b": 2}], serializer=Serializer()),
    {"count": 2, "next": None, "previous": None, "results": [{"x": "y"}, {"x": None}]},
    2**64,  # beyond orjson: DRF's renderer answers
    {1: "int key", 2: "b"},  # not a str key: DRF's renderer answers
    [],
    "",
    0,
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_same_bytes_as_drf(value: object) -> None:
    ours, drf = both(value)
    assert ours == drf


def test_a_page_of_patients_renders_the_same(db: None) -> None:
    from patients.api.serializers import PatientSerializer
    from patients.models import Patient
    from patients.tests.factories import PatientFactory

    for n in range(3):
        PatientFactory.create(email=None if n else "a@example.org", phone=None)
    data = PatientSerializer(Patient.objects.select_related("latest__outcome"), many=True).data
    ours, drf = both({"count": 3, "next": None, "previous": None, "results": data})
    assert ours == drf


def test_indented_output_is_drfs() -> None:
    data = {"a": [1, {"b": dt.date(2026, 1, 2)}]}
    for accepted in ("application/json; indent=4", "application/json; indent=2"):
        ours, drf = both(data, accepted)
        assert ours == drf
        assert b"\n" in ours


def test_none_renders_an_empty_body() -> None:
    assert JSONRenderer().render(None) == b""


@pytest.mark.parametrize("value", [object(), Point(3)], ids=["object", "dataclass"])
def test_what_drf_cannot_encode_fails_the_same_way(value: object) -> None:
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render({"x": value})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": value})


def test_small_floats_are_the_same_number() -> None:
    """The one textual difference: orjson writes 1e-7 where Python writes 1e-07."""
    value = {"tiny": 1e-7, "rank": 0.0001234}
    ours, drf = both(value)
    assert ours == b'{"tiny":1e-7,"rank":0.0001234}'
    assert drf == b'{"tiny":1e-07,"rank":0.0001234}'
    assert json.loads(ours) == json.loads(drf)


def test_it_is_the_api_renderer() -> None:
    assert list(api_settings.DEFAULT_RENDERER_CLASSES) == [JSONRenderer]


def test_a_response_through_the_api_is_orjson_rendered(provider_client: object) -> None:
    from core.tests.clients import UserClient

    assert isinstance(provider_client, UserClient)
    response = provider_client.get("/api/v1/patients/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.content == renderers.JSONRenderer().render(response.json())
