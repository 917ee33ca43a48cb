"""DRF throttles keyed on the real client address (core.client_ip), never on a raw header."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from core.client_ip import client_ip


class ClientIpScopedRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` whose anonymous key is :func:`core.client_ip.client_ip`.

    DRF's own ``get_ident`` reads ``X-Forwarded-For`` whenever ``NUM_PROXIES`` is unset,
    so a client could pick a fresh "address" per request and never be throttled.
    Authenticated callers are still keyed on their user id.
    """

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request)
