"""The real client address: forged X-Forwarded-For is ignored unless a trusted proxy sent it."""

from __future__ import annotations

import ipaddress

import pytest
from django.http import HttpRequest
from django.test import RequestFactory

from core.client_ip import client_ip


def _request(remote: str, xff: str | None = None) -> HttpRequest:
    if xff is None:
        return RequestFactory().get("/", REMOTE_ADDR=remote)
    return RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff)


def _nets(*cidrs: str) -> list:
    return [ipaddress.ip_network(c) for c in cidrs]


def test_default_trusts_no_proxy(settings) -> None:
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"
    assert client_ip(_request("198.51.100.7")) == "198.51.100.7"


def test_proxy_count_takes_the_address_the_last_proxy_saw(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged "1.1.1.1"; nginx appended the address it really saw.
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 203.0.113.9")) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.3")) == "203.0.113.9"


def test_proxy_count_with_a_short_header_falls_back_to_remote_addr(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.2", "203.0.113.9")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


def test_trusted_networks_walk_from_the_right(settings) -> None:
    settings.TRUSTED_PROXIES = _nets("10.0.0.0/8")
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.3")) == "203.0.113.9"


def test_trusted_networks_ignore_the_header_from_an_untrusted_peer(settings) -> None:
    settings.TRUSTED_PROXIES = _nets("10.0.0.0/8")
    assert client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


def test_garbage_entries_stop_the_walk(settings) -> None:
    settings.TRUSTED_PROXIES = _nets("10.0.0.0/8")
    assert client_ip(_request("10.0.0.2", "203.0.113.9, not-an-ip")) == "10.0.0.2"
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", "junk")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        (" 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_ports_brackets_and_case_are_normalised(settings, entry: str, expected: str) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", entry)) == expected


@pytest.mark.django_db
def test_access_log_records_the_real_client_address(client, settings, caplog) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="clinic.access")
    client.get("/health", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    settings.TRUSTED_PROXY_COUNT = 1
    client.get("/health", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    addresses = [r.client_ip for r in caplog.records if r.name == "clinic.access"]
    assert addresses == ["198.51.100.7", "203.0.113.9"]
