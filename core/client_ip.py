"""The real client address of a request.

A placeholder until trusted-proxy handling lands: it returns the socket peer. Callers
(throttles, the audit trail, logs) go through this one function so that the trusted-proxy
rule is applied in exactly one place.
"""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``."""
    return str(request.META.get("REMOTE_ADDR", ""))
