"""The token endpoint's throttle keys on the real client address (core.client_ip)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
_names = itertools.count()


def _attempt(client: APIClient, **headers: Any) -> Any:
    return client.post(
        "/api/v1/auth/token/",
        # A fresh username each time: this is about the throttle, not the account lockout.
        {"username": f"nobody-{next(_names)}", "password": "wrong"},
        format="json",
        **headers,
    )


@pytest.fixture
def low_rate(settings):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], token="3/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


def test_forged_forwarded_for_does_not_reset_the_throttle(api_client: APIClient, low_rate) -> None:
    statuses = [
        _attempt(
            api_client, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(6)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429, 429]
    body = _attempt(api_client, REMOTE_ADDR="198.51.100.7").json()
    assert body["code"] == "throttled"


def test_a_trusted_proxys_forwarded_for_is_honoured(
    api_client: APIClient, low_rate, settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy: each real client has its own budget, keyed on what the proxy saw.
    for client_no in range(3):
        statuses = [
            _attempt(
                api_client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{client_no}"
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
    # A client cannot escape by prepending its own entry: the proxy's entry decides.
    forged = _attempt(
        api_client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.55, 203.0.113.0"
    )
    assert forged.status_code == 429
